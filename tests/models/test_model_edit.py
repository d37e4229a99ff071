"""``mlflowx.models.get_model_info``, ``set_signature`` and ``update_model_requirements``:
MLflow's helpers, on local, ``runs:/`` and ``models:/`` URIs, checked against MLflow's own."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import mlflowx
import mlflowx.models
import mlflowx.sklearn
from mlflowx.exceptions import InvalidParameter
from mlflowx.models import ModelSignature, infer_signature

# MLflow's own SQLAlchemy use warns when its package is imported; checked, not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy is deprecated")


@pytest.fixture
def logged() -> tuple[mlflowx.models.ModelInfo, np.ndarray]:
    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=500).fit(X, y)
    mlflowx.set_experiment("edit")
    with mlflowx.start_run():
        info = mlflowx.sklearn.log_model(model, name="clf", input_example=X[:2])
    return info, X


def test_get_model_info_reads_the_mlmodel(
    logged: tuple[mlflowx.models.ModelInfo, np.ndarray],
) -> None:
    info, _ = logged
    for uri in (info.model_uri, f"runs:/{info.run_id}/clf"):
        found = mlflowx.models.get_model_info(uri)
        assert (found.model_id, found.run_id, found.model_uri) == (info.model_id, info.run_id, uri)
        assert set(found.flavors) == {"python_function", "sklearn"}
        assert found.signature.to_dict() == info.signature.to_dict()
        assert found.utc_time_created == info.utc_time_created


def test_set_signature_rewrites_the_stored_model(
    logged: tuple[mlflowx.models.ModelInfo, np.ndarray], tmp_path: Path
) -> None:
    info, X = logged
    signature = infer_signature(X[:, :2], np.array([1, 2]))
    mlflowx.models.set_signature(f"runs:/{info.run_id}/clf", signature)
    assert mlflowx.models.get_model_info(info.model_uri).signature == signature
    # MLflow reads the signature mlflowx wrote.
    local = mlflowx.models.download_model(info.model_uri, tmp_path / "m")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import mlflow.models

    theirs = mlflow.models.Model.load(str(local)).signature
    assert theirs.to_dict() == signature.to_dict()


def test_registry_uris_are_read_only(logged: tuple[mlflowx.models.ModelInfo, np.ndarray]) -> None:
    info, X = logged
    mlflowx.register_model(info.model_uri, "edited")
    assert mlflowx.models.get_model_info("models:/edited/1").model_id == info.model_id
    with pytest.raises(InvalidParameter, match=r"`models:/<name>/<version>` scheme"):
        mlflowx.models.set_signature("models:/edited/1", infer_signature(X))
    with pytest.raises(InvalidParameter, match="registered versions are read-only"):
        mlflowx.models.update_model_requirements("models:/edited/1", "add", ["numpy"])
    with pytest.raises(InvalidParameter, match="ModelSignature"):
        mlflowx.models.set_signature(info.model_uri, "not a signature")  # type: ignore[arg-type]


def _requirements(folder: Path) -> tuple[list[str], list[str]]:
    conda = yaml.safe_load((folder / "conda.yaml").read_text())
    pip = next(d["pip"] for d in conda["dependencies"] if isinstance(d, dict))
    return (folder / "requirements.txt").read_text().splitlines(), pip


@pytest.mark.parametrize(
    ("operation", "requirements"),
    [("add", ["numpy==1.20.3", "pandas>=1.3.3", "rich"]), ("remove", ["scikit-learn", "absent"])],
)
def test_update_model_requirements_as_mlflow(
    logged: tuple[mlflowx.models.ModelInfo, np.ndarray],
    tmp_path: Path,
    operation: str,
    requirements: list[str],
) -> None:
    info, _ = logged
    local = mlflowx.models.download_model(info.model_uri, tmp_path / "m")
    theirs_dir = shutil.copytree(local, tmp_path / "theirs")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import mlflow.models

    mlflow.models.update_model_requirements(str(theirs_dir), operation, requirements)  # type: ignore[arg-type]
    mlflowx.models.update_model_requirements(info.model_uri, operation, requirements)  # type: ignore[arg-type]
    ours = mlflowx.models.download_model(info.model_uri, tmp_path / "after")
    assert _requirements(ours) == _requirements(Path(theirs_dir))
    assert _requirements(ours) != _requirements(local)


def test_invalid_requirements_and_operations_are_refused(
    logged: tuple[mlflowx.models.ModelInfo, np.ndarray],
) -> None:
    info, _ = logged
    with pytest.raises(InvalidParameter, match="Found invalid requirements"):
        mlflowx.models.update_model_requirements(info.model_uri, "add", ["not a req !!"])
    with pytest.raises(InvalidParameter, match="'add' or 'remove'"):
        mlflowx.models.update_model_requirements(info.model_uri, "replace", ["numpy"])  # type: ignore[arg-type]


def test_signature_type_is_exported() -> None:
    assert mlflowx.models.ModelSignature is ModelSignature


def test_log_model_info_matches_mlflow_model_info_shape() -> None:
    """``log_model`` returns what MLflow's does: a ModelSignature, the model's uuid and
    the user metadata (not the flavors) under ``metadata``."""
    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=500).fit(X, y)
    mlflowx.set_experiment("edit-info")
    with mlflowx.start_run():
        info = mlflowx.sklearn.log_model(
            model, name="clf", input_example=X[:2], metadata={"owner": "team-a"}
        )
    found = mlflowx.models.get_model_info(info.model_uri)
    assert isinstance(info.signature, ModelSignature)
    assert info.signature.to_dict() == found.signature.to_dict()
    assert info.model_uuid
    assert info.model_uuid == found.model_uuid
    assert info.metadata == found.metadata == {"owner": "team-a"}
