"""``mlflowx.pytorch.save_model/log_model(code_paths=...)``: the files are copied into the
model's ``code`` directory as MLflow copies them, and loading puts that directory on sys.path
(only with ``allow_code``), both ways with the real MLflow."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import mlflowx.pyfunc
import mlflowx.pytorch
from mlflowx.exceptions import InvalidParameter, UntrustedModel
from mlflowx.models.mlmodel import Model

pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning:mlflow.*"),
    pytest.mark.filterwarnings("ignore::FutureWarning:mlflow.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:mlflow.*"),
]

X = np.random.default_rng(2).random((5, 4), dtype=np.float32)
MODULE = "i15_scaled_net"
NET_CODE = f"""
import torch

from {MODULE}_helpers.scale import SCALE


class ScaledNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(4, 2)

    def forward(self, x):
        return self.linear(x) * SCALE
"""


@pytest.fixture
def code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A module file and a package directory defining a model class, importable while the
    model is saved, then gone (as on another machine)."""
    src = tmp_path / "src"
    (src / f"{MODULE}_helpers").mkdir(parents=True)
    (src / f"{MODULE}.py").write_text(NET_CODE)
    (src / f"{MODULE}_helpers" / "__init__.py").write_text("")
    (src / f"{MODULE}_helpers" / "scale.py").write_text("SCALE = 3.0\n")
    (src / f"{MODULE}_helpers" / "__pycache__").mkdir()
    (src / f"{MODULE}_helpers" / "__pycache__" / "junk.pyc").write_bytes(b"")
    monkeypatch.setattr(sys, "path", [str(src), *sys.path])
    module = __import__(MODULE)
    torch.manual_seed(0)
    net = module.ScaledNet()
    with torch.no_grad():
        expected = net(torch.from_numpy(X)).numpy()
    paths = [str(src / f"{MODULE}.py"), str(src / f"{MODULE}_helpers")]
    yield {"net": net, "expected": expected, "paths": paths, "src": src}
    _forget_module_only()


def _forget_module_only() -> None:
    for name in [n for n in sys.modules if n.startswith(MODULE)]:
        del sys.modules[name]


def _forget(code: dict[str, Any]) -> None:
    _forget_module_only()
    sys.path.remove(str(code["src"]))


def test_code_paths_are_copied_and_put_on_sys_path_with_allow_code(
    code: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "m"
    mlflowx.pytorch.save_model(
        code["net"], path, serialization_format="pickle", code_paths=code["paths"]
    )
    flavors = Model.load(path).flavors
    assert flavors["pytorch"]["code"] == flavors["python_function"]["code"] == "code"
    assert (path / "code" / f"{MODULE}.py").read_text() == NET_CODE
    assert (path / "code" / f"{MODULE}_helpers" / "scale.py").is_file()
    assert not (path / "code" / f"{MODULE}_helpers" / "__pycache__").exists()
    _forget(code)
    with pytest.raises(UntrustedModel, match="code_paths"):
        mlflowx.pyfunc.load_model(path, allow_pickle=True)
    with pytest.raises(UntrustedModel, match="code_paths"):
        mlflowx.pytorch.load_model(path, allow_pickle=True)
    assert MODULE not in sys.modules
    model = mlflowx.pyfunc.load_model(path, allow_pickle=True, allow_code=True)
    np.testing.assert_allclose(model.predict(X), code["expected"], rtol=1e-6)
    assert sys.modules[MODULE].__file__ == str(path / "code" / f"{MODULE}.py")
    native = mlflowx.pytorch.load_model(path, allow_pickle=True, allow_code=True)
    np.testing.assert_allclose(
        native(torch.from_numpy(X)).detach().numpy(), code["expected"], rtol=1e-6
    )


def test_log_model_with_code_paths(code: dict[str, Any], tmp_path: Path) -> None:
    import mlflowx

    mlflowx.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflowx.db'}")
    with mlflowx.start_run():
        info = mlflowx.pytorch.log_model(
            code["net"], name="net", serialization_format="pickle", code_paths=code["paths"]
        )
    _forget(code)
    model = mlflowx.pyfunc.load_model(info.model_uri, allow_pickle=True, allow_code=True)
    np.testing.assert_allclose(model.predict(X), code["expected"], rtol=1e-6)


def test_mlflow_loads_our_code_paths_model_and_we_load_theirs(
    code: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow.pyfunc
    import mlflow.pytorch

    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")
    monkeypatch.setenv("MLFLOW_DEFAULT_PREDICTION_DEVICE", "cpu")
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    mlflowx.pytorch.save_model(
        code["net"], ours, serialization_format="pickle", code_paths=code["paths"]
    )
    mlflow.pytorch.save_model(
        code["net"], str(theirs), serialization_format="pickle", code_paths=code["paths"]
    )
    a, b = Model.load(ours).flavors, Model.load(theirs).flavors  # the same sections, the same dir
    assert a["pytorch"]["code"] == b["pytorch"]["code"] == "code"
    assert a["python_function"]["code"] == b["python_function"]["code"] == "code"
    assert sorted(p.relative_to(ours) for p in (ours / "code").rglob("*")) == sorted(
        p.relative_to(theirs) for p in (theirs / "code").rglob("*")
    )
    _forget(code)
    np.testing.assert_allclose(
        mlflow.pyfunc.load_model(str(ours)).predict(X), code["expected"], rtol=1e-6
    )
    assert sys.modules[MODULE].__file__ == str(ours / "code" / f"{MODULE}.py")
    _forget_module_only()
    sys.path[:] = [p for p in sys.path if p != str(ours / "code")]  # MLflow left it there
    model = mlflowx.pyfunc.load_model(theirs, allow_pickle=True, allow_code=True)
    np.testing.assert_allclose(model.predict(X), code["expected"], rtol=1e-6)
    assert sys.modules[MODULE].__file__ == str(theirs / "code" / f"{MODULE}.py")


@pytest.mark.parametrize(
    ("code_paths", "message"),
    [
        ("one.py", "must be a list"),
        (["missing.py"], "does not exist"),
    ],
)
def test_bad_code_paths_are_refused(code_paths: Any, message: str, tmp_path: Path) -> None:
    net = torch.nn.Linear(4, 2)
    with pytest.raises(InvalidParameter, match=message):
        mlflowx.pytorch.save_model(
            net, tmp_path / "m", serialization_format="pickle", code_paths=code_paths
        )


def test_two_code_paths_with_one_name_are_refused(tmp_path: Path) -> None:
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "util.py").write_text("")
    with pytest.raises(InvalidParameter, match=r"would both be copied to code/util\.py"):
        mlflowx.pytorch.save_model(
            torch.nn.Linear(4, 2),
            tmp_path / "m",
            serialization_format="pickle",
            code_paths=[tmp_path / "a" / "util.py", tmp_path / "b" / "util.py"],
        )
