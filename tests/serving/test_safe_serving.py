"""Serving loads models safely: a model that would run its own code is refused by the scoring
app, ``mlflowx models serve`` and ``predict`` unless ``--allow-code`` (or ``allow_code=True``)
says otherwise; pickles likewise need ``--allow-pickle``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from mlflowx.cli import app
from mlflowx.exceptions import InvalidParameter, InvalidState, UntrustedModel
from mlflowx.serving import create_scoring_app, start_scoring_server
from mlflowx.serving.docker.image import Trust, render_dockerfile
from tests.serving._scoring import code_model, save_iris


def _health(client: TestClient) -> tuple[int, dict[str, str]]:
    response = client.get("/health")
    return response.status_code, response.json() if response.status_code != 200 else {}


def test_scoring_app_refuses_model_code(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    path = code_model(tmp_path, marker)
    with TestClient(create_scoring_app(str(path))) as client:
        status, body = _health(client)
        assert status == 503
        assert body["status"] == "failed"
        assert body["error"].startswith("UntrustedModel: Refusing to load")
        assert "--allow-code" in body["error"]
        assert "MLFLOWX_ALLOW_MODEL_CODE" in body["error"]
        answer = client.post("/invocations", json={"inputs": [1]})
        assert answer.status_code == 503
    assert not marker.exists()


def test_scoring_app_loads_model_code_with_the_opt_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "marker"
    path = code_model(tmp_path, marker)
    with TestClient(create_scoring_app(str(path), allow_code=True)) as client:
        assert _health(client)[0] == 200
        assert client.post("/invocations", json={"inputs": [1, 2]}).json() == {
            "predictions": [1, 2]
        }
    assert marker.exists()
    marker.unlink()
    # What `mlflowx models serve --allow-code` hands its workers.
    monkeypatch.setenv("MLFLOWX_ALLOW_MODEL_CODE", "true")
    with TestClient(create_scoring_app(str(path))) as client:
        assert _health(client)[0] == 200
    assert marker.exists()


def test_scoring_app_refuses_pickles_without_allow_pickle(tmp_path: Path) -> None:
    save_iris(tmp_path / "m", serialization_format="cloudpickle")
    with TestClient(create_scoring_app(str(tmp_path / "m"))) as client:
        status, body = _health(client)
        assert status == 503
        assert "--allow-pickle" in body["error"]
    with TestClient(create_scoring_app(str(tmp_path / "m"), allow_pickle=True)) as client:
        assert _health(client)[0] == 200


def test_predict_cli_refuses_model_code(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    path = code_model(tmp_path, marker)
    source = tmp_path / "in.json"
    source.write_text(json.dumps({"inputs": [5]}))
    args = ["models", "predict", "-m", str(path), "-i", str(source)]
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code != 0
    assert isinstance(refused.exception, UntrustedModel)  # main() prints it, exit code 2
    assert "--allow-code" in str(refused.exception)
    assert not marker.exists()
    allowed = CliRunner().invoke(app, [*args, "--allow-code"])
    assert allowed.exit_code == 0, allowed.output
    assert json.loads(allowed.stdout) == {"predictions": [5]}
    assert marker.exists()


def test_models_serve_refuses_model_code_unless_allowed(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    path = code_model(tmp_path, marker)
    with pytest.raises(InvalidState, match=r"could not load .*--allow-code"):
        start_scoring_server(path, timeout=240)
    assert not marker.exists()
    with start_scoring_server(path, timeout=240, allow_code=True) as server:
        assert server.predict({"inputs": [7]}) == [7]
    assert marker.exists()


def test_image_passes_only_the_opt_ins_its_builder_gave(tmp_path: Path) -> None:
    def command(trust: Trust | None) -> str:
        text = render_dockerfile("base:1", "mlflowx-0-py3-none-any.whl", trust=trust)
        cmd: list[str] = json.loads(text.split("\nCMD ", 1)[1].splitlines()[0])
        return cmd[2]

    assert "--allow" not in command(None)
    assert "--allow" not in command(Trust())
    assert command(Trust(allow_code=True)).endswith('--workers "$MLFLOWX_WORKERS" --allow-code')
    both = command(Trust(allow_pickle=True, allow_code=True))
    assert both.endswith("--allow-pickle --allow-code")
    assert Trust(allow_code=True).labels() == {
        "io.mlflowx.allow-pickle": "false",
        "io.mlflowx.allow-code": "true",
    }


def test_image_build_checks_the_model_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "marker"
    path = code_model(tmp_path, marker)
    # The build host's environment does not count: an image runs elsewhere.
    monkeypatch.setenv("MLFLOWX_ALLOW_MODEL_CODE", "true")
    with pytest.raises(UntrustedModel, match=r"into a serving image.*--allow-code"):
        Trust().check(path, "models:/x@champion")
    Trust(allow_code=True).check(path, "models:/x@champion")
    save_iris(tmp_path / "iris")
    Trust().check(tmp_path / "iris", "iris")
    (tmp_path / "iris" / "notes").symlink_to(Path.home())
    with pytest.raises(InvalidParameter, match="symlink"):
        Trust(allow_pickle=True, allow_code=True).check(tmp_path / "iris", "iris")
    assert not marker.exists()
