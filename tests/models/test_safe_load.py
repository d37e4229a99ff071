"""Safe loading: a model's own code runs only with ``allow_code``, its pickles only with
``allow_pickle``, and every file an MLmodel names stays inside the model directory."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import mlflowx
import mlflowx.pyfunc
import mlflowx.sklearn
from mlflowx.exceptions import InvalidParameter, UntrustedModel
from mlflowx.models import Model
from mlflowx.models.load import load_pyfunc, pyfunc_needs
from mlflowx.models.paths import check_links, model_file
from tests.serving._scoring import EVIL


def _write_mlmodel(path: Path, data: dict[str, Any]) -> None:
    (path / "MLmodel").write_text(yaml.safe_dump(data))


def _read_mlmodel(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((path / "MLmodel").read_text())
    return data


def _code_model(root: Path, marker: Path) -> Path:
    """What an attacker uploads: an MLmodel naming a model.py that runs on load."""
    path = root / "evil-model"
    path.mkdir(parents=True)
    (path / "model.py").write_text(EVIL.format(marker=str(marker)))
    _write_mlmodel(
        path,
        {
            "flavors": {
                "python_function": {
                    "loader_module": "mlflow.pyfunc.loaders.code_model",
                    "model_code_path": "model.py",
                }
            }
        },
    )
    return path


def _iris_model(path: Path, **kwargs: Any) -> Any:
    X, y = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=200).fit(X, y)
    mlflowx.sklearn.save_model(model, path, **kwargs)
    return X


# --- model code ------------------------------------------------------------------------------


def test_model_code_is_refused_by_default_and_says_how_to_opt_in(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    path = _code_model(tmp_path, marker)
    for load in (mlflowx.pyfunc.load_model, load_pyfunc):
        with pytest.raises(UntrustedModel, match="Refusing to load") as info:
            load(path)
        message = str(info.value)
        assert str(path / "model.py") in message
        assert "model_code_path" in message
        for opt_in in ("allow_code=True", "--allow-code", "MLFLOWX_ALLOW_MODEL_CODE=true"):
            assert opt_in in message
        assert "allow_pickle" not in message  # only what this model needs
    assert not marker.exists()


def test_model_code_loads_with_the_opt_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "marker"
    path = _code_model(tmp_path, marker)
    assert mlflowx.pyfunc.load_model(path, allow_code=True).predict([1, 2]) == [1, 2]
    assert marker.read_text() == "ran"
    marker.unlink()
    monkeypatch.setenv("MLFLOWX_ALLOW_MODEL_CODE", "true")
    assert load_pyfunc(path).predict([3]) == [3]
    assert marker.exists()


def test_explicit_refusal_beats_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "marker"
    path = _code_model(tmp_path, marker)
    monkeypatch.setenv("MLFLOWX_ALLOW_MODEL_CODE", "true")
    with pytest.raises(UntrustedModel, match="allow_code"):
        mlflowx.pyfunc.load_model(path, allow_code=False)
    assert not marker.exists()


def test_allow_pickle_does_not_allow_model_code(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    path = _code_model(tmp_path, marker)
    with pytest.raises(UntrustedModel, match="--allow-code"):
        mlflowx.pyfunc.load_model(path, allow_pickle=True)
    assert not marker.exists()


def test_registered_code_model_by_alias_is_refused(tmp_path: Path) -> None:
    """The chain from the issue: upload MLmodel + model.py, register, move the alias."""
    marker = tmp_path / "marker"
    path = _code_model(tmp_path / "upload", marker)
    with mlflowx.start_run() as run:
        mlflowx.log_artifacts(str(path), "model")
    mlflowx.register_model(f"runs:/{run.info.run_id}/model", "x")
    mlflowx.MlflowxClient().set_registered_model_alias("x", "champion", "1")
    with pytest.raises(UntrustedModel, match="--allow-code"):
        mlflowx.pyfunc.load_model("models:/x@champion")
    assert not marker.exists()
    assert mlflowx.pyfunc.load_model("models:/x@champion", allow_code=True).predict([0]) == [0]
    assert marker.exists()


def test_model_code_path_counts_by_its_file_name_only(tmp_path: Path) -> None:
    """MLflow records where the code was saved from (often absolute) and loads
    <model dir>/<file name>; a '../' there never reaches a file outside."""
    marker = tmp_path / "marker"
    outside = tmp_path / "evil.py"
    outside.write_text(EVIL.format(marker=str(marker)))
    path = _code_model(tmp_path, tmp_path / "inside-marker")
    data = _read_mlmodel(path)
    for value in ("../evil.py", str(outside)):
        data["flavors"]["python_function"]["model_code_path"] = value
        _write_mlmodel(path, data)
        with pytest.raises(InvalidParameter, match=r"evil\.py.*missing"):
            mlflowx.pyfunc.load_model(path, allow_code=True)
    assert not marker.exists()


def test_model_code_symlinked_out_of_the_model_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    outside = tmp_path / "elsewhere.py"
    outside.write_text(EVIL.format(marker=str(marker)))
    path = _code_model(tmp_path, tmp_path / "inside-marker")
    (path / "model.py").unlink()
    (path / "model.py").symlink_to(outside)
    with pytest.raises(InvalidParameter, match="outside"):
        mlflowx.pyfunc.load_model(path, allow_code=True)
    assert not marker.exists()


def test_saving_a_code_model_infers_its_signature_without_an_opt_in(tmp_path: Path) -> None:
    """save_model runs the caller's own code (just handed over) to infer the output schema."""
    code = tmp_path / "upper.py"
    code.write_text(
        "import mlflowx.models\n"
        "class Upper:\n"
        "    def predict(self, model_input, params=None):\n"
        "        return [s.upper() for s in model_input]\n"
        "mlflowx.models.set_model(Upper())\n"
    )
    info = mlflowx.pyfunc.save_model(tmp_path / "m", python_model=str(code), input_example=["a"])
    assert info.signature is not None
    assert "outputs" in info.signature
    with pytest.raises(UntrustedModel, match="allow_code"):
        mlflowx.pyfunc.load_model(tmp_path / "m")


# --- code directories (MLflow's code_paths) --------------------------------------------------


def test_code_directory_needs_the_opt_in_even_for_a_skops_model(tmp_path: Path) -> None:
    path = tmp_path / "m"
    X = _iris_model(path)
    (path / "code").mkdir()
    (path / "code" / "json_helpers.py").write_text("X = 1\n")
    data = _read_mlmodel(path)
    data["flavors"]["python_function"]["code"] = "code"
    data["flavors"]["sklearn"]["code"] = "code"
    _write_mlmodel(path, data)
    before = list(sys.path)
    with pytest.raises(UntrustedModel, match="code_paths") as info:
        mlflowx.pyfunc.load_model(path)
    assert "--allow-code" in str(info.value)
    with pytest.raises(UntrustedModel, match="allow_code"):
        mlflowx.sklearn.load_model(path)
    assert sys.path == before
    try:
        loaded = mlflowx.pyfunc.load_model(path, allow_code=True)
        assert len(loaded.predict(X.head(2))) == 2
        assert sys.path[0] == str(path / "code")
    finally:
        sys.path[:] = before


def test_everything_a_model_needs_is_listed_at_once(tmp_path: Path) -> None:
    path = tmp_path / "m"
    _iris_model(path, serialization_format="cloudpickle")
    (path / "code").mkdir()
    data = _read_mlmodel(path)
    data["flavors"]["python_function"]["code"] = "code"
    _write_mlmodel(path, data)
    needs = {(n.permission, n.file.name) for n in pyfunc_needs(path)}
    assert needs == {("code", "code"), ("pickle", "model.pkl")}
    with pytest.raises(UntrustedModel, match="Refusing to load") as info:
        mlflowx.pyfunc.load_model(path)
    message = str(info.value)
    assert "--allow-pickle" in message
    assert "--allow-code" in message
    with pytest.raises(UntrustedModel, match="--allow-code"):
        mlflowx.pyfunc.load_model(path, allow_pickle=True)


def test_skops_model_needs_no_opt_in(tmp_path: Path) -> None:
    X = _iris_model(tmp_path / "m")
    assert pyfunc_needs(tmp_path / "m") == []
    assert len(mlflowx.pyfunc.load_model(tmp_path / "m").predict(X.head(3))) == 3
    assert mlflowx.sklearn.load_model(tmp_path / "m").predict(X.head(1)).shape == (1,)


def test_a_loader_module_is_never_imported(tmp_path: Path) -> None:
    path = tmp_path / "m"
    path.mkdir()
    _write_mlmodel(path, {"flavors": {"python_function": {"loader_module": "antigravity"}}})
    with pytest.raises(InvalidParameter, match="never imports"):
        mlflowx.pyfunc.load_model(path, allow_pickle=True, allow_code=True)
    assert "antigravity" not in sys.modules


# --- file paths stay inside the model directory ----------------------------------------------

ESCAPES = ["../outside.bin", "/etc/passwd", "sub/../../outside.bin", "C:\\Windows\\x"]


def _set(data: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    node = data
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value


def _sklearn_pickle_only(path: Path) -> None:
    """An old MLflow sklearn model: only a python_function section, pickled."""
    _iris_model(path, serialization_format="pickle")
    data = _read_mlmodel(path)
    del data["flavors"]["sklearn"]
    _write_mlmodel(path, data)


def _custom(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    artifact = path.parent / "a.txt"
    artifact.write_text("1")
    mlflowx.pyfunc.save_model(path, python_model=_Echo(), artifacts={"a": str(artifact)})


class _Echo(mlflowx.pyfunc.PythonModel):
    def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
        return model_input


FIELDS = {
    "flavors.sklearn.pickled_model": _iris_model,
    "flavors.python_function.model_path": _sklearn_pickle_only,
    "flavors.python_function.python_model": _custom,
    "flavors.python_function.artifacts.a.path": _custom,
    "flavors.python_function.code": _iris_model,
}


@pytest.mark.parametrize("field", list(FIELDS))
@pytest.mark.parametrize("value", ESCAPES)
def test_every_mlmodel_path_stays_inside_the_model(tmp_path: Path, field: str, value: str) -> None:
    path = tmp_path / "models" / "m"
    FIELDS[field](path)
    (tmp_path / "models" / "outside.bin").write_bytes(b"not yours")
    data = _read_mlmodel(path)
    _set(data, field, value)
    _write_mlmodel(path, data)
    name = field.removeprefix("flavors.")
    with pytest.raises(InvalidParameter, match=rf"sets {name} to .*relative paths inside") as info:
        mlflowx.pyfunc.load_model(path, allow_pickle=True, allow_code=True)
    assert str(path) in str(info.value)
    if field.startswith("flavors.sklearn"):
        with pytest.raises(InvalidParameter, match="inside its directory"):
            mlflowx.sklearn.load_model(path, allow_pickle=True, allow_code=True)


@pytest.mark.parametrize("field", ["flavors.sklearn.pickled_model", "flavors.python_function.code"])
def test_a_symlink_out_of_the_model_is_refused(tmp_path: Path, field: str) -> None:
    path = tmp_path / "m"
    _iris_model(path)
    outside = tmp_path / "secret"
    outside.mkdir()
    (path / "link").symlink_to(outside)
    data = _read_mlmodel(path)
    _set(data, field, "link/model.skops")
    _write_mlmodel(path, data)
    with pytest.raises(InvalidParameter, match="symlink"):
        mlflowx.pyfunc.load_model(path, allow_pickle=True, allow_code=True)


def test_input_example_paths_stay_inside_the_model(tmp_path: Path) -> None:
    from mlflowx.models.example import load_input_example, load_serving_input_example

    path = tmp_path / "m"
    _iris_model(path, input_example=load_iris(as_frame=True).data.head(2))
    info = Model.load(path).saved_input_example_info
    assert info is not None
    assert load_serving_input_example(path, info)
    bad = "../../../etc/passwd"
    with pytest.raises(InvalidParameter, match=r"saved_input_example_info\.artifact_path"):
        load_input_example(path, {**info, "artifact_path": bad})
    with pytest.raises(InvalidParameter, match=r"saved_input_example_info\.serving_input_path"):
        load_serving_input_example(path, {**info, "serving_input_path": bad})


def test_model_file_rules(tmp_path: Path) -> None:
    root = tmp_path / "m"
    (root / "sub").mkdir(parents=True)
    assert model_file(root, "sub/f.bin", "f") == root / "sub" / "f.bin"
    assert model_file(root, "f.bin", "f") == root / "f.bin"
    for bad in ("", None, 3, "/abs", "..", "a/../../b", "a\\..\\b", "C:f", "\\\\host\\share\\f"):
        with pytest.raises(InvalidParameter, match="sets f to"):
            model_file(root, bad, "f")
    (root / "out").symlink_to(tmp_path)
    with pytest.raises(InvalidParameter, match="symlink"):
        model_file(root, "out/x", "f")
    (root / "in").symlink_to(root / "sub")
    assert model_file(root, "in/x", "f") == root / "in" / "x"  # a link inside is fine


def test_check_links(tmp_path: Path) -> None:
    root = tmp_path / "m"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "inside").symlink_to(root / "sub")
    check_links(root)
    (root / "sub" / "key").symlink_to(tmp_path / "id_rsa")
    with pytest.raises(InvalidParameter, match=r"sub/key, a symlink to .*id_rsa"):
        check_links(root)


def test_the_refusal_suggests_a_safe_format_only_where_the_flavor_has_one(tmp_path: Path) -> None:
    from mlflowx.models.policy import LoadPolicy, Need

    sklearn_need = Need.pickle(tmp_path / "model.pkl", "a scikit-learn model", "Use skops.")
    statsmodels_need = Need.pickle(tmp_path / "model.statsmodels", "a statsmodels results object")
    with pytest.raises(UntrustedModel, match="Refusing to load the model") as refused:
        LoadPolicy().check([statsmodels_need], "the model")
    assert "skops" not in str(refused.value)
    assert "allow_pickle" in str(refused.value)
    with pytest.raises(UntrustedModel, match=r"Use skops\."):
        LoadPolicy().check([sklearn_need, statsmodels_need], "the model")
