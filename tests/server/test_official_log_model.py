"""The official client's MLflow 3 model workflow against a live server: ``mlflow.sklearn.
log_model`` (logged models, artifacts through the proxy), ``register_model``, aliases, and
loading by ``models:/`` URIs, with mlflowx reading the same models."""

from __future__ import annotations

import uuid

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import mlflowx
import mlflowx.pyfunc
import mlflowx.sklearn
from tests.fixtures.server import LiveServer

pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning:mlflow.*"),
    pytest.mark.filterwarnings("ignore::FutureWarning:mlflow.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:mlflow.*"),
]


@pytest.fixture
def mlflow_client(any_server: LiveServer, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    import mlflow

    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", any_server.url)
    mlflow.set_tracking_uri(any_server.url)
    yield mlflow
    while mlflow.active_run() is not None:
        mlflow.end_run()


def test_log_register_and_load_by_alias(mlflow_client, any_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    mlflow = mlflow_client
    X, y = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=500).fit(X, y)
    name = f"iris-{uuid.uuid4().hex[:8]}"
    mlflow.set_experiment(f"log-model-{uuid.uuid4().hex[:8]}")
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(
            model, name="model", input_example=X.head(3), registered_model_name=name,
            pip_requirements=["scikit-learn"],
        )  # fmt: skip
    assert info.model_id.startswith("m-")
    client = mlflow.MlflowClient()
    logged = client.get_logged_model(info.model_id)
    assert logged.source_run_id == run.info.run_id
    client.set_registered_model_alias(name, "champion", "1")
    expected = model.predict(X)
    for uri in (info.model_uri, f"models:/{name}/1", f"models:/{name}@champion"):
        np.testing.assert_array_equal(mlflow.pyfunc.load_model(uri).predict(X), expected)
    if any_server.kind == "mlflowx":
        # mlflowx's own client reads the model the official client logged.
        mlflowx.set_tracking_uri(any_server.url)
        for uri in (info.model_uri, f"models:/{name}@champion"):
            loaded = mlflowx.pyfunc.load_model(uri)
            np.testing.assert_array_equal(np.asarray(loaded.predict(X)), expected)


def test_mlflowx_logged_model_loads_with_official_client(
    mlflowx_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow

    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")
    mlflow.set_tracking_uri(mlflowx_server.url)
    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=500).fit(X, y)
    name = f"x-{uuid.uuid4().hex[:8]}"
    mlflowx.set_tracking_uri(mlflowx_server.url)
    mlflowx.set_experiment(f"mlflowx-logged-{uuid.uuid4().hex[:8]}")
    with mlflowx.start_run():
        info = mlflowx.sklearn.log_model(model, name="model", registered_model_name=name)
    loaded = mlflow.pyfunc.load_model(f"models:/{name}/1")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert mlflow.MlflowClient().get_logged_model(info.model_id).name == "model"
