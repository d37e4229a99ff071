"""mlflowx's own client over HTTP: the REST store, retries, credentials, and the artifact proxy."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

import mlflowx
from mlflowx.exceptions import NotFound, TemporarilyUnavailable
from mlflowx.store.http import HttpSession
from mlflowx.store.tracking.rest import RestTrackingStore
from tests.fixtures.server import LiveServer

EXPERIMENT = {
    "experiment": {"experiment_id": "7", "name": "e", "artifact_location": "x", "tags": []}
}


def _session(handler: httpx.MockTransport, monkeypatch: pytest.MonkeyPatch) -> HttpSession:
    monkeypatch.setenv("MLFLOWX_HTTP_REQUEST_BACKOFF_FACTOR", "0")
    client = httpx.Client(transport=handler, base_url="http://server")
    return HttpSession("http://server", client)


def test_fluent_api_against_a_live_server(mlflowx_server: LiveServer, tmp_path: Path) -> None:
    mlflowx.set_tracking_uri(mlflowx_server.url)
    mlflowx.set_experiment("rest-fluent")
    src = tmp_path / "data"
    (src / "nested").mkdir(parents=True)
    (src / "nested" / "a.txt").write_text("A")
    with mlflowx.start_run() as run:
        mlflowx.log_params({"lr": 0.1})
        for i in range(5):
            mlflowx.log_metric("loss", 1 / (i + 1), step=i)
        mlflowx.log_metric("nan", float("nan"))
        mlflowx.log_dict({"k": 1}, "cfg/config.json")
        mlflowx.log_artifacts(src, "data")
        with mlflowx.start_run(nested=True):
            mlflowx.log_metric("child", 1.0)
    client = mlflowx.MlflowxClient()
    got = client.get_run(run.info.run_id)
    assert got.info.status == "FINISHED"
    assert got.data.params == {"lr": "0.1"}
    assert got.data.metrics["loss"] == pytest.approx(0.2)
    assert got.data.latest_metrics["loss"].step == 4
    assert run.info.artifact_uri.startswith("mlflow-artifacts:/")  # type: ignore[union-attr]
    assert [m.step for m in client.get_metric_history(run.info.run_id, "loss")] == list(range(5))
    assert [f.path for f in client.list_artifacts(run.info.run_id)] == ["cfg", "data"]
    local = Path(client.download_artifacts(run.info.run_id, "data", tmp_path / "dl"))
    assert (local / "nested" / "a.txt").read_text() == "A"
    cfg = client.download_artifacts(run.info.run_id, "cfg/config.json", tmp_path / "dl2")
    assert json.loads(Path(cfg).read_text()) == {"k": 1}
    df = mlflowx.search_runs(filter_string="metrics.loss < 0.5")
    assert list(df["run_id"]) == [run.info.run_id]
    with pytest.raises(NotFound, match="424242"):
        client.get_experiment("424242")


def test_idempotent_calls_retry_on_5xx_and_429(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if len(calls) == 1:
            return httpx.Response(
                503, json={"error_code": "TEMPORARILY_UNAVAILABLE", "message": "x"}
            )
        if len(calls) == 2:
            return httpx.Response(429, text="slow down")
        return httpx.Response(200, json=EXPERIMENT)

    store = RestTrackingStore("http://server", _session(httpx.MockTransport(handler), monkeypatch))
    assert store.get_experiment("7").name == "e"
    assert len(calls) == 3


def test_non_idempotent_calls_are_not_retried_on_5xx(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(
            503, json={"error_code": "TEMPORARILY_UNAVAILABLE", "message": "busy"}
        )

    store = RestTrackingStore("http://server", _session(httpx.MockTransport(handler), monkeypatch))
    with pytest.raises(TemporarilyUnavailable, match="busy"):
        store.create_experiment("x")
    assert len(calls) == 1


def test_retries_give_up_with_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOWX_HTTP_REQUEST_MAX_RETRIES", "2")

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    store = RestTrackingStore("http://server", _session(httpx.MockTransport(handler), monkeypatch))
    with pytest.raises(TemporarilyUnavailable, match="after 2 retries"):
        store.get_experiment("7")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"MLFLOWX_TRACKING_TOKEN": "tok"}, "Bearer tok"),
        ({"MLFLOW_TRACKING_TOKEN": "mtok"}, "Bearer mtok"),
        ({"MLFLOWX_TRACKING_USERNAME": "u", "MLFLOWX_TRACKING_PASSWORD": "p"}, "Basic dTpw"),
    ],
)
def test_credentials_from_the_environment(
    env: dict[str, str], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("MLFLOWX_TRACKING_TOKEN", "MLFLOW_TRACKING_TOKEN", "MLFLOWX_TRACKING_USERNAME",
                 "MLFLOW_TRACKING_USERNAME", "MLFLOWX_TRACKING_PASSWORD",
                 "MLFLOW_TRACKING_PASSWORD"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        return httpx.Response(200, json=EXPERIMENT)

    session = HttpSession("http://server")
    session.client._transport = httpx.MockTransport(handler)
    RestTrackingStore("http://server", session).get_experiment("7")
    assert seen == [expected]
