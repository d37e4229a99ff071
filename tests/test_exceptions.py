from __future__ import annotations

import pytest

from mlflowx import exceptions as e


@pytest.mark.parametrize(
    ("cls", "code", "status"),
    [
        (e.InvalidParameter, "INVALID_PARAMETER_VALUE", 400),
        (e.NotFound, "RESOURCE_DOES_NOT_EXIST", 404),
        (e.AlreadyExists, "RESOURCE_ALREADY_EXISTS", 400),
        (e.InvalidState, "INVALID_STATE", 500),
        (e.TemporarilyUnavailable, "TEMPORARILY_UNAVAILABLE", 503),
        (e.RequestLimitExceeded, "REQUEST_LIMIT_EXCEEDED", 429),
        (e.PermissionDenied, "PERMISSION_DENIED", 403),
        (e.Unauthenticated, "UNAUTHENTICATED", 401),
        (e.EndpointNotFound, "ENDPOINT_NOT_FOUND", 404),
        (e.InternalError, "INTERNAL_ERROR", 500),
    ],
)
def test_codes_and_statuses_match_mlflow(cls: type[e.MlflowxError], code: str, status: int) -> None:
    err = cls("msg")
    assert (err.code, err.error_code, err.http_status) == (code, code, status)
    assert err.to_payload() == {"error_code": code, "message": "msg"}


def test_payload_round_trip_keeps_the_type() -> None:
    back = e.MlflowxError.from_payload(e.NotFound("run x").to_payload())
    assert type(back) is e.NotFound
    assert back.message == "run x"
    unknown = e.MlflowxError.from_payload({"error_code": "WEIRD", "message": "m"})
    assert type(unknown) is e.InternalError
    assert "WEIRD" in unknown.message


def test_subclass_keeps_parent_code() -> None:
    assert e.SchemaOutOfDate("x").code == "INVALID_STATE"
    assert (e.UntrustedModel("x").code, e.UntrustedModel.exit_code) == (
        "INVALID_PARAMETER_VALUE",
        2,
    )
    back = e.MlflowxError.from_payload(e.InvalidParameter("bad").to_payload())
    assert type(back) is e.InvalidParameter  # the subclass does not take over the code
