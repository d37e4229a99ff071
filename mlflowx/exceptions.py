"""One error tree for mlflowx.

Every error carries the MLflow error code, the HTTP status MLflow's server answers with, and the
exit code the CLI ends with. The server, the REST client and the CLI all read them from here.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AlreadyExists",
    "BadRequest",
    "DockerUnavailable",
    "EndpointNotFound",
    "ImageBuildError",
    "InternalError",
    "InvalidParameter",
    "InvalidState",
    "MalformedRequest",
    "MlflowException",
    "MlflowxError",
    "NotFound",
    "NotImplementedByBackend",
    "PayloadTooLarge",
    "PermissionDenied",
    "RequestLimitExceeded",
    "SchemaOutOfDate",
    "TemporarilyUnavailable",
    "Unauthenticated",
    "UntrustedModel",
]


class MlflowxError(Exception):
    """Base of every error mlflowx raises on purpose.

    Attributes:
        code: MLflow's error code (``RESOURCE_DOES_NOT_EXIST`` ...).
        http_status: the status MLflow's tracking server answers with for that code.
        exit_code: what the ``mlflowx`` command exits with.
    """

    code: ClassVar[str] = "INTERNAL_ERROR"
    http_status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 1
    _by_code: ClassVar[dict[str, type[MlflowxError]]] = {}

    def __init_subclass__(
        cls,
        *,
        code: str | None = None,
        http_status: int | None = None,
        exit_code: int = 1,
        **kw: Any,
    ) -> None:
        super().__init_subclass__(**kw)
        if code is not None:
            cls.code = code
            cls.http_status = http_status if http_status is not None else 500
            cls.exit_code = exit_code
            MlflowxError._by_code.setdefault(code, cls)

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def error_code(self) -> str:
        """MLflow's name for :attr:`code` (``MlflowException.error_code``)."""
        return self.code

    def to_payload(self) -> dict[str, str]:
        """The JSON body MLflow's server sends for this error."""
        return {"error_code": self.code, "message": self.message}

    @classmethod
    def from_payload(cls, payload: dict[str, Any], status: int | None = None) -> MlflowxError:
        """Rebuild the typed error from a server's JSON error body."""
        code = str(payload.get("error_code", ""))
        message = str(payload.get("message", payload))
        error_cls = cls._by_code.get(code)
        if error_cls is None:
            error = InternalError(message)
            if code:
                error.message = f"{code}: {message}"
            return error
        return error_cls(message)


#: MLflow's name for the base error: ``from mlflowx.exceptions import MlflowException``.
MlflowException = MlflowxError


class InternalError(MlflowxError, code="INTERNAL_ERROR", http_status=500): ...


class InvalidParameter(MlflowxError, code="INVALID_PARAMETER_VALUE", http_status=400, exit_code=2):
    """A value given by the caller is not acceptable (name, range, format, immutability)."""


class UntrustedModel(InvalidParameter):
    """Loading the model would run code it brings (pickles, Python files, code directories),
    and the caller did not opt in; the message names the files and the opt-ins."""


class PayloadTooLarge(
    InvalidParameter, code="INVALID_PARAMETER_VALUE", http_status=413, exit_code=2
):
    """A request body (e.g. an artifact upload) is larger than the server accepts."""


class MalformedRequest(MlflowxError, code="MALFORMED_REQUEST", http_status=400, exit_code=2): ...


class BadRequest(MlflowxError, code="BAD_REQUEST", http_status=400, exit_code=2): ...


class NotFound(MlflowxError, code="RESOURCE_DOES_NOT_EXIST", http_status=404, exit_code=3): ...


class AlreadyExists(MlflowxError, code="RESOURCE_ALREADY_EXISTS", http_status=400, exit_code=4): ...


class InvalidState(MlflowxError, code="INVALID_STATE", http_status=500, exit_code=5):
    """The operation does not apply to the object's current state (e.g. a deleted run)."""


class SchemaOutOfDate(InvalidState):
    """The database schema is older than this mlflowx; ``mlflowx db upgrade`` migrates it."""


class DockerUnavailable(InvalidState):
    """The Docker daemon cannot be reached (or the docker SDK is not installed)."""


class ImageBuildError(InvalidState):
    """A Docker image (or its wheelhouse) could not be built; the message carries the output."""


class PermissionDenied(MlflowxError, code="PERMISSION_DENIED", http_status=403, exit_code=6): ...


class Unauthenticated(MlflowxError, code="UNAUTHENTICATED", http_status=401, exit_code=6): ...


class EndpointNotFound(MlflowxError, code="ENDPOINT_NOT_FOUND", http_status=404): ...


class RequestLimitExceeded(MlflowxError, code="REQUEST_LIMIT_EXCEEDED", http_status=429): ...


class TemporarilyUnavailable(MlflowxError, code="TEMPORARILY_UNAVAILABLE", http_status=503): ...


class NotImplementedByBackend(MlflowxError, code="NOT_IMPLEMENTED", http_status=501): ...
