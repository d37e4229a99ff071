"""Loading a model by URI leaves no temporary directories behind.

sklearn estimators are read whole, so their download goes as soon as they are loaded; a pyfunc
model keeps its directory while it lives (custom models read artifacts lazily) and removes it
when collected. Failed loads remove what they downloaded.
"""

from __future__ import annotations

import gc
import tempfile
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

import mlflowx
import mlflowx.pyfunc
import mlflowx.sklearn
from mlflowx.exceptions import InvalidParameter, NotFound
from mlflowx.models import download_model


class _ReadsLazily(mlflowx.pyfunc.PythonModel):
    """Reads its artifact at every predict, long after loading."""

    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        return [Path(context.artifacts["word"]).read_text()] * len(model_input)


@pytest.fixture
def tmpdir_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The directory tempfile uses, watched by the tests (empty at the start)."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setenv("TMPDIR", str(root))
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


@pytest.fixture
def logged(tmp_path: Path) -> dict[str, str]:
    mlflowx.set_tracking_uri(f"sqlite:///{tmp_path / 'db.sqlite'}")
    estimator = LinearRegression().fit(np.array([[0.0], [1.0], [2.0]]), np.array([0, 2, 4]))
    word = tmp_path / "word.txt"
    word.write_text("hello")
    with mlflowx.start_run() as run:
        sk = mlflowx.sklearn.log_model(estimator, name="sk")
        custom = mlflowx.pyfunc.log_model(
            name="custom",
            python_model=_ReadsLazily(),
            artifacts={"word": str(word)},
        )
    return {
        "sk-run": f"runs:/{run.info.run_id}/sk",
        "sk-id": sk.model_uri,
        "custom": custom.model_uri,
    }


def test_repeated_sklearn_loads_leave_no_directories(
    logged: dict[str, str], tmpdir_root: Path
) -> None:
    for _ in range(3):
        for key in ("sk-run", "sk-id"):
            estimator = mlflowx.sklearn.load_model(logged[key])
            assert estimator.predict(np.array([[3.0]]))[0] == pytest.approx(6.0)
            assert list(tmpdir_root.iterdir()) == []  # removed right after loading


def test_a_pyfunc_model_keeps_its_files_while_it_lives(
    logged: dict[str, str], tmpdir_root: Path
) -> None:
    for _ in range(3):
        model = mlflowx.pyfunc.load_model(logged["custom"], allow_pickle=True)
        assert model.path.is_relative_to(tmpdir_root)
        gc.collect()
        assert model.predict([1, 2]) == ["hello", "hello"]  # the artifact is still there
        sk = mlflowx.pyfunc.load_model(logged["sk-run"])
        assert sk.predict(np.array([[1.0]]))[0] == pytest.approx(2.0)
        assert len(list(tmpdir_root.iterdir())) == 2
        del model, sk
        gc.collect()
        assert list(tmpdir_root.iterdir()) == []


def test_a_chosen_destination_is_kept(
    logged: dict[str, str], tmpdir_root: Path, tmp_path: Path
) -> None:
    dst = tmp_path / "mine"
    model = mlflowx.pyfunc.load_model(logged["sk-id"], dst_path=dst)
    del model
    gc.collect()
    assert (dst / "MLmodel").is_file() or any(dst.rglob("MLmodel"))
    mlflowx.sklearn.load_model(logged["sk-id"], dst_path=tmp_path / "mine2")
    assert any((tmp_path / "mine2").rglob("MLmodel"))
    assert list(tmpdir_root.iterdir()) == []


def test_failed_loads_remove_their_downloads(logged: dict[str, str], tmpdir_root: Path) -> None:
    run_id = logged["sk-run"].split("/")[1]
    with pytest.raises(NotFound, match="no artifacts or model there"):
        mlflowx.pyfunc.load_model(f"runs:/{run_id}/nothing-here")
    with pytest.raises(NotFound, match="no artifacts or model there"):
        mlflowx.sklearn.load_model(f"runs:/{run_id}/nothing-here")
    with pytest.raises(NotFound, match="no artifacts or model there"):
        download_model(f"runs:/{run_id}/nothing-here")
    with pytest.raises(InvalidParameter, match="pickle"):  # the custom model is cloudpickled
        mlflowx.pyfunc.load_model(logged["custom"])
    assert list(tmpdir_root.iterdir()) == []
