"""Validation errors say what MLflow's server says, word for word (quotes included).

Tools match MLflow's messages (``"exceeds the maximum length"``, ``"Invalid value ... for
parameter 'key' supplied"``), so every case runs the same call through the official client
against MLflow's server and mlflowx's, and the two messages must be equal.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import mlflow.utils.validation as mlflow_validation
import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException

from tests.fixtures.server import LiveServer

Case = Callable[[MlflowClient, str, str], object]
T0 = 1_700_000_000_000


def _batch(client: MlflowClient, run_id: str, **kw: list[object]) -> None:
    client.log_batch(run_id, **kw)  # type: ignore[arg-type]


def _post(client: MlflowClient, endpoint: str, body: dict[str, object]) -> None:
    """A raw request, for what the official client checks or splits before sending."""
    response = httpx.post(f"{client.tracking_uri}/api/2.0/mlflow/{endpoint}", json=body)
    if response.status_code != 200:
        error = response.json()
        raise MlflowException(f"{error['error_code']}: {error['message']}")


def _many(kind: str, n: int) -> list[dict[str, object]]:
    if kind == "metrics":
        return [{"key": f"m{i}", "value": 1.0, "timestamp": T0, "step": 0} for i in range(n)]
    return [{"key": f"{kind[0]}{i}", "value": "1"} for i in range(n)]


CASES: dict[str, Case] = {
    "experiment tag value too long": lambda c, e, r: c.set_experiment_tag(e, "x", "v" * 20001),
    "param key with a bad character": lambda c, e, r: c.log_param(r, "a!b", 1),
    "param key that is a path": lambda c, e, r: c.log_param(r, "a/../b", 1),
    "param key too long": lambda c, e, r: c.log_param(r, "k" * 251, 1),
    "metric key with a bad character": lambda c, e, r: c.log_metric(r, "m!", 1.0, T0),
    "metric key that is a path": lambda c, e, r: c.log_metric(r, "./m", 1.0, T0),
    "metric key too long": lambda c, e, r: c.log_metric(r, "m" * 251, 1.0, T0),
    "metric value that is not a number": lambda c, e, r: _post(
        c, "runs/log-metric", {"run_id": r, "key": "m", "value": "x", "timestamp": T0}
    ),
    "metric timestamp that is not an integer": lambda c, e, r: _post(
        c, "runs/log-metric", {"run_id": r, "key": "m", "value": 1.0, "timestamp": "soon"}
    ),
    "tag key with a bad character": lambda c, e, r: c.set_tag(r, "t?", "v"),
    "tag key too long": lambda c, e, r: c.set_tag(r, "t" * 251, "v"),
    "experiment tag key with a bad character": lambda c, e, r: c.set_experiment_tag(e, "x*", "v"),
    "experiment name too long": lambda c, e, r: c.create_experiment("n" * 501),
    "empty experiment name": lambda c, e, r: c.create_experiment(""),
    "invalid experiment id": lambda c, e, r: c.get_experiment("bad!id"),
    "too many metrics in a batch": lambda c, e, r: _post(
        c, "runs/log-batch", {"run_id": r, "metrics": _many("metrics", 1001)}
    ),
    "too many params in a batch": lambda c, e, r: _post(
        c, "runs/log-batch", {"run_id": r, "params": _many("params", 101)}
    ),
    "too many tags in a batch": lambda c, e, r: _post(
        c, "runs/log-batch", {"run_id": r, "tags": _many("tags", 101)}
    ),
    "too many entities in a batch": lambda c, e, r: _post(
        c,
        "runs/log-batch",
        {"run_id": r, "metrics": _many("metrics", 950), "params": _many("params", 60)},
    ),
    "bad metric key in a batch": lambda c, e, r: _batch(c, r, metrics=[Metric("a!", 1.0, T0, 0)]),
    "bad param key in a batch": lambda c, e, r: _batch(
        c, r, params=[Param("ok", "1"), Param("b@d", "1")]
    ),
    "bad tag key in a batch": lambda c, e, r: _batch(c, r, tags=[RunTag("b@d", "1")]),
    "duplicate param keys in a batch": lambda c, e, r: _batch(
        c, r, params=[Param("p", "1"), Param("p", "2")]
    ),
    "changed param value": lambda c, e, r: (c.log_param(r, "p", 1), c.log_param(r, "p", 2)),
}


@pytest.fixture(scope="module")
def clients(
    mlflowx_server: LiveServer, mlflow_server: LiveServer
) -> Iterator[dict[str, MlflowClient]]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
        mp.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
        yield {s.kind: MlflowClient(s.url) for s in (mlflowx_server, mlflow_server)}


def _message(client: MlflowClient, case: Case) -> str:
    experiment_id = client.create_experiment(f"msg-{uuid.uuid4().hex}")
    run_id = client.create_run(experiment_id, start_time=int(time.time() * 1000)).info.run_id
    with pytest.raises(MlflowException, match=r"^[A-Z_]+: ") as caught:
        case(client, experiment_id, run_id)
    # The run id is random on each server; the message names it where MLflow's does.
    return caught.value.message.replace(run_id, "<run>")


@pytest.mark.parametrize("name", list(CASES))
def test_message_matches_mlflow(clients: dict[str, MlflowClient], name: str) -> None:
    case = CASES[name]
    expected = _message(clients["mlflow"], case)
    assert _message(clients["mlflowx"], case) == expected


# MLflow truncates a long param or tag value by default (``MLFLOW_TRUNCATE_LONG_VALUES``);
# mlflowx refuses it with the message MLflow gives when truncation is off.
REFUSED: dict[str, tuple[Case, Callable[[], object]]] = {
    "param value too long": (
        lambda c, e, r: c.log_param(r, "p", "v" * 6001),
        lambda: mlflow_validation._validate_param("p", "v" * 6001),
    ),
    "tag value too long": (
        lambda c, e, r: c.set_tag(r, "t", "v" * 8001),
        lambda: mlflow_validation._validate_tag("t", "v" * 8001),
    ),
    "long tag value in a batch": (
        lambda c, e, r: _batch(c, r, tags=[RunTag("t", "v" * 8001)]),
        lambda: mlflow_validation._validate_tag("t", "v" * 8001, path="tags[0]"),
    ),
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_refused_long_value_in_mlflow_words(
    clients: dict[str, MlflowClient], name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    case, mlflow_check = REFUSED[name]
    monkeypatch.setenv("MLFLOW_TRUNCATE_LONG_VALUES", "false")
    with pytest.raises(MlflowException, match="exceeds the maximum length") as expected:
        mlflow_check()
    assert expected.value.message in _message(clients["mlflowx"], case)
