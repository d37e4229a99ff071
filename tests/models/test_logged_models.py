"""MLflow 3 logged models: log_model creates ``m-<id>``, linked to its run, loadable by URI."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import mlflowx
import mlflowx.pyfunc
import mlflowx.sklearn
from mlflowx.entities import LoggedModelStatus
from mlflowx.exceptions import InvalidParameter, NotFound


def _fit() -> tuple[LogisticRegression, np.ndarray]:
    X, y = load_iris(return_X_y=True)
    return LogisticRegression(max_iter=500).fit(X, y), X


def test_log_model_creates_a_ready_logged_model_linked_to_the_run() -> None:
    model, X = _fit()
    mlflowx.set_experiment("lm")
    with mlflowx.start_run() as run:
        mlflowx.log_param("C", 1.0)
        info = mlflowx.sklearn.log_model(model, name="clf", tags={"team": "a"})
    client = mlflowx.MlflowxClient()
    logged = client.get_logged_model(info.model_id)
    assert logged.status == LoggedModelStatus.READY
    assert logged.source_run_id == run.info.run_id
    assert logged.name == "clf"
    assert logged.params == {"C": "1.0"}  # the run's params, as MLflow copies them
    assert logged.tags["team"] == "a"
    assert logged.artifact_location.endswith(f"/models/{info.model_id}/artifacts")
    outputs = client.get_run(run.info.run_id).outputs.model_outputs
    assert [o.model_id for o in outputs] == [info.model_id]
    np.testing.assert_array_equal(
        mlflowx.sklearn.load_model(info.model_uri).predict(X), model.predict(X)
    )


def test_search_logged_models_by_name_and_tag() -> None:
    model, _ = _fit()
    with mlflowx.start_run() as run:
        a = mlflowx.sklearn.log_model(model, name="a", tags={"k": "1"})
        mlflowx.sklearn.log_model(model, name="b", tags={"k": "2"})
    client = mlflowx.MlflowxClient()
    eid = run.info.experiment_id
    assert [m.model_id for m in client.search_logged_models([eid], "name = 'a'")] == [a.model_id]
    assert [m.name for m in client.search_logged_models([eid], "tags.k = '2'")] == ["b"]
    names = [m.name for m in client.search_logged_models([eid], order_by=["name DESC"])]
    assert names == ["b", "a"]
    with pytest.raises(InvalidParameter, match="position"):
        client.search_logged_models([eid], "name ~ 'a'")


def test_logged_model_lifecycle() -> None:
    client = mlflowx.MlflowxClient()
    model = client.create_logged_model("0", "x", params={"p": 1})
    assert model.status == LoggedModelStatus.PENDING
    client.set_logged_model_tags(model.model_id, {"t": "v"})
    client.log_model_params(model.model_id, {"q": "2"})
    got = client.get_logged_model(model.model_id)
    assert got.tags == {"t": "v"}
    assert got.params == {"p": "1", "q": "2"}
    client.delete_logged_model_tag(model.model_id, "t")
    client.finalize_logged_model(model.model_id, "READY")
    client.delete_logged_model(model.model_id)
    with pytest.raises(NotFound, match=model.model_id):
        client.get_logged_model(model.model_id)


def test_models_uri_errors_are_clear() -> None:
    with pytest.raises(NotFound, match="m-0000"):
        mlflowx.pyfunc.load_model("models:/m-0000")
    with pytest.raises(InvalidParameter, match="Invalid Model Version stage: banana"):
        mlflowx.pyfunc.load_model("models:/name/banana")
