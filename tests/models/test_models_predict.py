"""``mlflowx.models.predict``, ``validate_serving_input`` and
``convert_input_example_to_serving_input``: MLflow's helpers, checked against MLflow's own on
the same model directory."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import mlflowx.models
import mlflowx.pyfunc
import mlflowx.sklearn
from mlflowx.exceptions import InvalidParameter

# MLflow's own code warns (its SQLAlchemy use, pandas' range comparison in its example
# encoder, and its deprecation of validate_serving_input); checked, not ours.
pytestmark = [
    pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy is deprecated"),
    pytest.mark.filterwarnings("ignore:Operation with range is deprecated"),
    pytest.mark.filterwarnings("ignore:.*Any type hint is inferred as AnyType"),
    pytest.mark.filterwarnings(
        "ignore:``mlflow.models.utils.validate_serving_input`` is deprecated"
    ),
]


@pytest.fixture
def model_dir(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    X, y = load_iris(return_X_y=True, as_frame=True)
    path = tmp_path / "iris"
    mlflowx.sklearn.save_model(
        LogisticRegression(max_iter=500).fit(X, y),
        path,
        input_example=X.head(3),
        serialization_format="cloudpickle",  # so that MLflow can load it too
    )
    return path, X


def test_serving_input_of_an_example_is_mlflows(model_dir: tuple[Path, pd.DataFrame]) -> None:
    from mlflow.models import convert_input_example_to_serving_input as theirs

    _, X = model_dir
    for example in (X.head(2), X.head(2).to_numpy(), {"a": np.array([1.0, 2.0])}, None):
        ours = mlflowx.models.convert_input_example_to_serving_input(example)
        expected = theirs(example)
        assert (json.loads(ours) if ours else None) == (json.loads(expected) if expected else None)


def test_validate_serving_input_predicts_as_mlflow(model_dir: tuple[Path, pd.DataFrame]) -> None:
    from mlflow.models import validate_serving_input as theirs

    path, X = model_dir
    body = mlflowx.models.convert_input_example_to_serving_input(X.head(4))
    assert body is not None
    ours = mlflowx.models.validate_serving_input(str(path), body, allow_pickle=True)
    expected = theirs(str(path), body)
    assert np.asarray(ours).tolist() == np.asarray(expected).tolist()
    ours_dict = mlflowx.models.validate_serving_input(
        str(path), json.loads(body), allow_pickle=True
    )
    assert np.asarray(ours_dict).tolist() == np.asarray(expected).tolist()
    with pytest.raises(InvalidParameter, match="nope"):
        mlflowx.models.validate_serving_input(
            str(path), {"dataframe_split": {"columns": ["nope"], "data": [[1]]}}, allow_pickle=True
        )


def test_predict_writes_predictions_as_json(
    model_dir: tuple[Path, pd.DataFrame], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, X = model_dir
    expected = mlflowx.pyfunc.load_model(str(path), allow_pickle=True).predict(X.head(5))
    out = tmp_path / "out.json"
    mlflowx.models.predict(str(path), input_data=X.head(5), output_path=out, allow_pickle=True)
    assert json.loads(out.read_text())["predictions"] == np.asarray(expected).tolist()
    csv = tmp_path / "in.csv"
    X.head(5).to_csv(csv, index=False)
    mlflowx.models.predict(str(path), input_path=csv, content_type="csv", allow_pickle=True)
    assert json.loads(capsys.readouterr().out)["predictions"] == np.asarray(expected).tolist()
    with pytest.raises(InvalidParameter, match="env_manager 'virtualenv' is not supported"):
        mlflowx.models.predict(str(path), input_data=X.head(1), env_manager="virtualenv")
    with pytest.raises(InvalidParameter, match="exactly one of input_data and input_path"):
        mlflowx.models.predict(str(path))
