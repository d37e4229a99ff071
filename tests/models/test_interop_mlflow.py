"""Interop with the real MLflow (test extra), both ways: files each saves load in the other
and predict exactly the same."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mlflowx.pyfunc
import mlflowx.sklearn

# MLflow itself warns (type-hint inference, pip/env probing) while saving; those are its own.
pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning:mlflow.*"),
    pytest.mark.filterwarnings("ignore::FutureWarning:mlflow.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:mlflow.*"),
]


@pytest.fixture(autouse=True)
def _mlflow_may_load(monkeypatch: pytest.MonkeyPatch) -> None:
    # MLflow 3.17 refuses to deserialize any sklearn model (skops included) without this.
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")


@pytest.fixture(scope="module")
def wine() -> tuple[pd.DataFrame, Any]:
    X, y = load_wine(return_X_y=True, as_frame=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)
    return X, model


TREE = "sklearn.tree._tree.Tree"


def test_trusted_types_cross_both_ways(wine: tuple, tmp_path: Path) -> None:
    """skops does not trust tree node storage by default; both tools need it declared."""
    import mlflow.sklearn

    X, _ = wine
    forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, load_wine().target)
    mlflowx.sklearn.save_model(forest, tmp_path / "ours", skops_trusted_types=[TREE])
    np.testing.assert_array_equal(
        mlflow.sklearn.load_model(str(tmp_path / "ours")).predict(X), forest.predict(X)
    )
    mlflow.sklearn.save_model(forest, str(tmp_path / "theirs"), skops_trusted_types=[TREE])
    loaded = mlflowx.sklearn.load_model(tmp_path / "theirs", trusted_types=[TREE])
    np.testing.assert_array_equal(loaded.predict(X), forest.predict(X))


def test_mlflowx_model_loads_in_mlflow(wine: tuple, tmp_path: Path) -> None:
    import mlflow.pyfunc
    import mlflow.sklearn

    X, model = wine
    mlflowx.sklearn.save_model(model, tmp_path / "m", input_example=X.head(3))
    ours = mlflowx.pyfunc.load_model(tmp_path / "m").predict(X)
    theirs = mlflow.pyfunc.load_model(str(tmp_path / "m")).predict(X)
    np.testing.assert_array_equal(np.asarray(theirs), np.asarray(ours))
    native = mlflow.sklearn.load_model(str(tmp_path / "m"))
    np.testing.assert_array_equal(native.predict(X), model.predict(X))
    # MLflow reads our signature and input example too.
    meta = mlflow.models.Model.load(str(tmp_path / "m"))
    assert meta.signature is not None
    assert meta.signature.inputs.input_names() == list(X.columns)
    assert meta.load_input_example(str(tmp_path / "m")).shape == (3, X.shape[1])


def test_mlflow_sklearn_model_loads_in_mlflowx(wine: tuple, tmp_path: Path) -> None:
    import mlflow.sklearn

    X, model = wine
    mlflow.sklearn.save_model(model, str(tmp_path / "m"), input_example=X.head(2))
    ours = mlflowx.pyfunc.load_model(tmp_path / "m")
    np.testing.assert_array_equal(np.asarray(ours.predict(X)), model.predict(X))
    assert ours.signature is not None
    np.testing.assert_array_equal(mlflowx.sklearn.load_model(tmp_path / "m").predict(X),
                                  model.predict(X))  # fmt: skip


def test_mlflow_pickled_sklearn_model_needs_permission(wine: tuple, tmp_path: Path) -> None:
    import mlflow.sklearn

    from mlflowx.exceptions import InvalidParameter

    X, model = wine
    mlflow.sklearn.save_model(model, str(tmp_path / "m"), serialization_format="cloudpickle")
    with pytest.raises(InvalidParameter, match="allow_pickle"):
        mlflowx.pyfunc.load_model(tmp_path / "m", allow_pickle=False)
    loaded = mlflowx.pyfunc.load_model(tmp_path / "m", allow_pickle=True)
    np.testing.assert_array_equal(np.asarray(loaded.predict(X)), model.predict(X))


def test_mlflow_custom_python_model_loads_in_mlflowx(tmp_path: Path) -> None:
    import mlflow.pyfunc

    artifact = tmp_path / "factor.txt"
    artifact.write_text("3")

    class Scaled(mlflow.pyfunc.PythonModel):
        def load_context(self, context: Any) -> None:
            self.factor = float(Path(context.artifacts["factor"]).read_text())

        def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> Any:
            return model_input["x"] * self.factor

    mlflow.pyfunc.save_model(
        str(tmp_path / "m"), python_model=Scaled(), artifacts={"factor": str(artifact)}
    )
    data = pd.DataFrame({"x": [1.0, 2.0]})
    expected = mlflow.pyfunc.load_model(str(tmp_path / "m")).predict(data)
    loaded = mlflowx.pyfunc.load_model(tmp_path / "m", allow_pickle=True)
    assert list(loaded.predict(data)) == list(expected) == [3.0, 6.0]


def test_mlflow_custom_model_without_mlflow_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow.pyfunc

    from mlflowx.exceptions import InvalidParameter

    class Echo(mlflow.pyfunc.PythonModel):
        def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
            return model_input

    mlflow.pyfunc.save_model(str(tmp_path / "m"), python_model=Echo())
    # Hide mlflow from the import system, as on a machine without it.
    for name in [m for m in sys.modules if m == "mlflow" or m.startswith("mlflow.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [_BlockMlflow(), *sys.meta_path])
    with pytest.raises(InvalidParameter, match="needs the 'mlflow' package"):
        mlflowx.pyfunc.load_model(tmp_path / "m", allow_pickle=True)


class _BlockMlflow:
    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "mlflow" or name.startswith("mlflow."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def test_mlflow_model_from_code_loads_with_allow_code(tmp_path: Path) -> None:
    """MLflow records the absolute path the code was saved from; the file in the model
    directory (by its name) is what runs, and only with allow_code."""
    import mlflow.pyfunc
    import yaml

    from mlflowx.exceptions import UntrustedModel

    code = tmp_path / "src" / "echo_model.py"
    code.parent.mkdir()
    code.write_text(
        "import mlflow.models\n"
        "import mlflow.pyfunc\n"
        "import mlflowx.models\n"
        "class Echo(mlflow.pyfunc.PythonModel):\n"
        "    def predict(self, context, model_input, params=None):\n"
        "        return model_input\n"
        "mlflow.models.set_model(Echo())\n"
        "mlflowx.models.set_model(Echo())\n"
    )
    mlflow.pyfunc.save_model(str(tmp_path / "m"), python_model=str(code))
    conf = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())["flavors"]["python_function"]
    assert Path(conf["model_code_path"]).is_absolute()
    code.unlink()  # only the model's own copy is left
    with pytest.raises(UntrustedModel, match="--allow-code"):
        mlflowx.pyfunc.load_model(tmp_path / "m")
    loaded = mlflowx.pyfunc.load_model(tmp_path / "m", allow_code=True)
    assert loaded.predict(["a", "b"]) == ["a", "b"]


def test_mlflow_code_paths_model_needs_allow_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pickled model whose class lives in a code_paths module: the code directory goes on
    sys.path (as MLflow does) only with allow_code, besides allow_pickle for the pickle."""
    import mlflow.pyfunc

    from mlflowx.exceptions import UntrustedModel

    src = tmp_path / "src"
    src.mkdir()
    (src / "doubler_mod.py").write_text(
        "import mlflow.pyfunc\n"
        "class Doubler(mlflow.pyfunc.PythonModel):\n"
        "    def predict(self, context, model_input, params=None):\n"
        "        return [2 * x for x in model_input]\n"
    )
    monkeypatch.setattr(sys, "path", [str(src), *sys.path])
    import doubler_mod  # type: ignore[import-not-found]

    mlflow.pyfunc.save_model(
        str(tmp_path / "m"),
        python_model=doubler_mod.Doubler(),
        code_paths=[str(src / "doubler_mod.py")],
    )
    # As on another machine: the module exists only in the model's code directory.
    monkeypatch.delitem(sys.modules, "doubler_mod")
    sys.path.remove(str(src))
    with pytest.raises(UntrustedModel, match="code_paths"):
        mlflowx.pyfunc.load_model(tmp_path / "m", allow_pickle=True)
    assert "doubler_mod" not in sys.modules
    loaded = mlflowx.pyfunc.load_model(tmp_path / "m", allow_pickle=True, allow_code=True)
    assert loaded.predict([1, 2]) == [2, 4]
    assert sys.modules["doubler_mod"].__file__ == str(tmp_path / "m" / "code" / "doubler_mod.py")
