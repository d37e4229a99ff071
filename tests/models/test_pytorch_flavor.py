"""The pytorch flavor: pt2 by default (safe to load), pickle behind allow_pickle, state dicts."""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import mlflowx.pyfunc
import mlflowx.pytorch
from mlflowx.exceptions import InvalidParameter, UntrustedModel
from mlflowx.models.mlmodel import Model


class Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = torch.nn.Sequential(
            torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


@pytest.fixture(scope="module")
def net() -> Net:
    torch.manual_seed(0)
    return Net()


X = np.random.default_rng(0).random((6, 4), dtype=np.float32)


def _expected(net: Net, data: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return net(torch.from_numpy(data)).numpy()


def test_pt2_is_the_default_and_loads_without_opt_in(net: Net, tmp_path: Path) -> None:
    info = mlflowx.pytorch.save_model(net, tmp_path / "m", input_example=X)
    assert (tmp_path / "m" / "data" / "model.pt2").is_file()
    assert info.flavors["pytorch"]["model_data"] == "data"
    assert info.flavors["python_function"]["loader_module"] == "mlflow.pytorch"
    assert info.signature is not None
    assert "tensor" in info.signature["inputs"]
    model = mlflowx.pyfunc.load_model(tmp_path / "m")
    np.testing.assert_allclose(model.predict(X), _expected(net, X), rtol=1e-6)
    # The batch dimension is dynamic: one row and many rows both work.
    np.testing.assert_allclose(model.predict(X[:1]), _expected(net, X[:1]), rtol=1e-6)
    native = mlflowx.pytorch.load_model(tmp_path / "m")
    np.testing.assert_allclose(
        native(torch.from_numpy(X)).detach().numpy(), _expected(net, X), rtol=1e-6
    )


def test_dataframe_in_dataframe_out(net: Net, tmp_path: Path) -> None:
    mlflowx.pytorch.save_model(net, tmp_path / "m", input_example=X, signature=False)
    frame = pd.DataFrame(X.astype(np.float64), index=list("abcdef"))
    out = mlflowx.pyfunc.load_model(tmp_path / "m").predict(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.index) == list("abcdef")
    np.testing.assert_allclose(out.to_numpy(), _expected(net, X), rtol=1e-5)


def test_pt2_needs_an_array_example(net: Net, tmp_path: Path) -> None:
    with pytest.raises(InvalidParameter, match="input_example, which must be a numpy array"):
        mlflowx.pytorch.save_model(net, tmp_path / "m")


def test_pickled_module_needs_allow_pickle(net: Net, tmp_path: Path) -> None:
    mlflowx.pytorch.save_model(net, tmp_path / "m", serialization_format="pickle")
    conf = Model.load(tmp_path / "m").flavors["python_function"]
    assert conf["pickle_module_name"] == "mlflow.pytorch.pickle_module"
    with pytest.raises(UntrustedModel, match=r"model\.pth is a whole PyTorch module"):
        mlflowx.pyfunc.load_model(tmp_path / "m")
    with pytest.raises(UntrustedModel, match="allow_pickle=True"):
        mlflowx.pytorch.load_model(tmp_path / "m")
    model = mlflowx.pyfunc.load_model(tmp_path / "m", allow_pickle=True)
    np.testing.assert_allclose(model.predict(X), _expected(net, X), rtol=1e-6)


# TorchScript is deprecated in torch 2.13, but MLflow still stores it (and users still have it).
@pytest.mark.filterwarnings("ignore:.*torch.jit.*deprecated:DeprecationWarning")
def test_torchscript_module_round_trips(net: Net, tmp_path: Path) -> None:
    scripted = torch.jit.script(net)
    mlflowx.pytorch.save_model(scripted, tmp_path / "m", serialization_format="pickle")
    loaded = mlflowx.pytorch.load_model(tmp_path / "m", allow_pickle=True)
    assert isinstance(loaded, torch.jit.ScriptModule)
    np.testing.assert_allclose(
        loaded(torch.from_numpy(X)).detach().numpy(), _expected(net, X), rtol=1e-6
    )


class _Boom:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("pwned",))


def test_pt2_archive_with_a_pickle_needs_allow_pickle(net: Net, tmp_path: Path) -> None:
    mlflowx.pytorch.save_model(net, tmp_path / "m", input_example=X)
    archive = tmp_path / "m" / "data" / "model.pt2"
    evil = tmp_path / "evil.pt"
    torch.save({"x": _Boom()}, evil)
    with zipfile.ZipFile(archive, "a") as zf:
        zf.writestr("model/data/constants/evil", evil.read_bytes())
    with pytest.raises(UntrustedModel, match=r"record 'model/data/constants/evil' is a pickle"):
        mlflowx.pyfunc.load_model(tmp_path / "m")
    with pytest.raises(UntrustedModel, match="allow_pickle"):
        mlflowx.pytorch.load_model(tmp_path / "m")


def test_not_a_module_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameter, match=r"must be a torch\.nn\.Module"):
        mlflowx.pytorch.save_model({"w": torch.zeros(1)}, tmp_path / "m")
    with pytest.raises(InvalidParameter, match="Unknown serialization_format 'onnx'"):
        mlflowx.pytorch.save_model(Net(), tmp_path / "n", serialization_format="onnx")


def test_state_dict_round_trip_needs_no_opt_in(net: Net, tmp_path: Path) -> None:
    mlflowx.pytorch.save_state_dict(net.state_dict(), tmp_path / "sd")
    assert (tmp_path / "sd" / "state_dict.pth").is_file()
    fresh = Net()
    fresh.load_state_dict(mlflowx.pytorch.load_state_dict(tmp_path / "sd"))
    np.testing.assert_allclose(_expected(fresh, X), _expected(net, X))


def test_state_dict_with_objects_needs_allow_pickle(tmp_path: Path) -> None:
    mlflowx.pytorch.save_state_dict({"weights": torch.ones(2), "extra": _Boom()}, tmp_path / "sd")
    with pytest.raises(UntrustedModel, match="a checkpoint holding more than tensors"):
        mlflowx.pytorch.load_state_dict(tmp_path / "sd")
    loaded = mlflowx.pytorch.load_state_dict(tmp_path / "sd", allow_pickle=True)
    assert torch.equal(loaded["weights"], torch.ones(2))


def test_save_state_dict_takes_a_dict(net: Net, tmp_path: Path) -> None:
    with pytest.raises(InvalidParameter, match="takes a dict"):
        mlflowx.pytorch.save_state_dict(net, tmp_path / "sd")  # type: ignore[arg-type]


def test_log_model_and_state_dict_through_a_run(net: Net, tmp_path: Path) -> None:
    import mlflowx

    mlflowx.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflowx.db'}")
    with mlflowx.start_run() as run:
        info = mlflowx.pytorch.log_model(net, name="net", input_example=X)
        mlflowx.pytorch.log_state_dict(net.state_dict(), "weights")
    model = mlflowx.pyfunc.load_model(info.model_uri)
    np.testing.assert_allclose(model.predict(X), _expected(net, X), rtol=1e-6)
    state = mlflowx.pytorch.load_state_dict(f"runs:/{run.info.run_id}/weights")
    assert set(state) == set(net.state_dict())


def test_pickle_of_boom_would_run_code() -> None:
    # The payload above is a real code-running pickle (so the refusals are meaningful).
    assert pickle.loads(pickle.dumps(_Boom())) is None
