"""The task library as plain functions: train, evaluate, register, deploy (no Prefect server)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

import mlflowx
from mlflowx.exceptions import InvalidParameter, NotFound
from mlflowx.orchestration.tasks import (
    ChallengerRejected,
    DatasetSpec,
    DeploySpec,
    EstimatorSpec,
    EvaluationSpec,
    Threshold,
    build_estimator,
    deploy_champion,
    evaluate_model,
    register_trained,
    train_model,
)
from mlflowx.orchestration.tasks.data import load_split
from mlflowx.orchestration.tasks.train import ALLOWED_ESTIMATORS_ENV
from mlflowx.registry.client import RegistryClient
from tests.fixtures.server import free_port

IRIS = DatasetSpec(ref="sklearn:iris", test_size=0.3, seed=7)
GOOD = EstimatorSpec(
    import_path="sklearn.linear_model.LogisticRegression", params={"max_iter": 500}
)
BAD = EstimatorSpec(import_path="sklearn.dummy.DummyClassifier", params={"strategy": "uniform"})
#: Not worse than the champion, and at least 0.8 accuracy.
BAR = EvaluationSpec(
    thresholds={"accuracy_score": Threshold(threshold=0.8, min_relative_change=0.0)}
)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("os.system", "outside the allowed import paths"),
        ("subprocess.Popen", "outside the allowed import paths"),
        ("sklearn.utils.Bunch", "is not an estimator class"),
        ("sklearn.linear_model.NoSuchModel", "Cannot import estimator"),
    ],
)
def test_estimators_outside_the_allow_list_or_not_estimators_are_refused(
    path: str, message: str
) -> None:
    with pytest.raises(InvalidParameter, match=message):
        build_estimator(EstimatorSpec(import_path=path))


def test_allow_list_opt_in_by_argument_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = EstimatorSpec(import_path="collections.OrderedDict")
    with pytest.raises(InvalidParameter, match="allowed_estimators"):
        build_estimator(spec)
    # Allowed, but still has to be an estimator.
    with pytest.raises(InvalidParameter, match="not an estimator class"):
        build_estimator(spec, allowed=["collections."])
    monkeypatch.setenv(ALLOWED_ESTIMATORS_ENV, "tests.orchestration.")
    estimator = build_estimator(
        EstimatorSpec(import_path="tests.orchestration.test_tasks.TinyEstimator")
    )
    assert isinstance(estimator, TinyEstimator)


class TinyEstimator:
    def fit(self, x: object, y: object) -> TinyEstimator:
        return self

    def predict(self, x: object) -> object:
        return x


def test_bad_constructor_params_are_an_invalid_parameter() -> None:
    with pytest.raises(InvalidParameter, match=r"Bad parameters for sklearn\.linear_model"):
        build_estimator(EstimatorSpec(import_path=GOOD.import_path, params={"nope": 1}))


def test_preprocessing_steps_make_a_pipeline() -> None:
    spec = EstimatorSpec(
        import_path=GOOD.import_path,
        params={"C": 0.5},
        preprocess=[EstimatorSpec(import_path="sklearn.preprocessing.StandardScaler")],
    )
    pipeline = build_estimator(spec)
    assert [type(s).__name__ for s in pipeline] == ["StandardScaler", "LogisticRegression"]
    assert spec.flat_params()["C"] == 0.5
    assert spec.label() == "StandardScaler+LogisticRegression"


def test_split_is_deterministic_by_seed_and_csv_needs_its_target(tmp_path: Path) -> None:
    a, b = load_split(IRIS), load_split(IRIS)
    assert list(a.x_test.index) == list(b.x_test.index)
    assert list(load_split(IRIS.model_copy(update={"seed": 8})).x_test.index) != list(
        a.x_test.index
    )
    csv = tmp_path / "data.csv"
    a.frame.rename(columns={"target": "label"}).to_csv(csv, index=False)
    split = load_split(DatasetSpec(ref=str(csv), target="label"))
    assert len(split.x_test) + len(split.x_train) == len(a.frame)
    with pytest.raises(InvalidParameter, match="has no target column 'target'"):
        load_split(DatasetSpec(ref=str(csv)))
    with pytest.raises(InvalidParameter, match="Unknown dataset 'sklearn:nope'"):
        load_split(DatasetSpec(ref="sklearn:nope"))


def test_train_logs_params_dataset_and_a_model_with_signature_and_example() -> None:
    with mlflowx.start_run(run_name="parent") as parent:
        trained = train_model(IRIS, GOOD)
    run = mlflowx.get_run(trained.run_id)
    assert run.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert run.data.params["estimator"] == GOOD.import_path
    assert run.data.params["dataset"] == "sklearn:iris"
    assert run.data.params["max_iter"] == "500"
    assert run.data.metrics["train_score"] > 0.9
    assert run.inputs.dataset_inputs[0].dataset.name == "iris"
    info = mlflowx.models.Model.load(mlflowx.models.download_model(trained.model_uri))
    assert info.signature is not None
    inputs = json.loads(info.signature["inputs"])
    assert inputs[0]["name"] == "sepal length (cm)"
    assert info.saved_input_example_info["type"] == "dataframe"
    assert trained.model_type == "classifier"


def test_first_model_passes_and_becomes_champion_with_lineage() -> None:
    trained = train_model(IRIS, GOOD, experiment="tasks")
    outcome = evaluate_model(trained, IRIS, BAR, model_name="iris")
    assert outcome.passed
    assert outcome.champion_version is None  # nothing to compare with yet
    assert outcome.metrics["accuracy_score"] >= 0.8
    run = mlflowx.get_run(trained.run_id)
    assert run.data.metrics["accuracy_score"] == outcome.metrics["accuracy_score"]
    assert run.data.tags["mlflowx.evaluation.passed"] == "true"
    registration = register_trained(trained, "iris", outcome)
    assert registration.champion
    assert registration.version == "1"
    client = RegistryClient()
    assert client.get_registered_model("iris").aliases == {"champion": "1"}
    version = client.get_model_version("iris", "1")
    assert version.run_id == trained.run_id
    assert version.tags["mlflowx.lineage.run_id"] == trained.run_id
    assert version.tags["mlflowx.evaluation.passed"] == "true"


def test_worse_challenger_fails_with_a_readable_reason_and_alias_stays() -> None:
    champion = train_model(IRIS, GOOD, experiment="tasks")
    register_trained(champion, "iris", evaluate_model(champion, IRIS, BAR, model_name="iris"))
    challenger = train_model(IRIS, BAD, experiment="tasks")
    with pytest.raises(ChallengerRejected, match=r"rejected against champion iris v1") as info:
        evaluate_model(challenger, IRIS, BAR, model_name="iris")
    text = str(info.value)
    assert "accuracy_score=" in text
    assert "is worse than the baseline's" in text
    assert challenger.run_id in text
    # The evaluation is logged on the challenger's run before it fails.
    tags = mlflowx.get_run(challenger.run_id).data.tags
    assert tags["mlflowx.evaluation.passed"] == "false"
    assert tags["mlflowx.evaluation.champion_version"] == "1"
    # Registered anyway when asked not to fail: a new version, but the alias does not move.
    lenient = BAR.model_copy(update={"fail_if_worse": False})
    outcome = evaluate_model(challenger, IRIS, lenient, model_name="iris")
    assert not outcome.passed
    assert outcome.failures
    assert outcome.champion_metrics is not None
    registration = register_trained(challenger, "iris", outcome)
    assert registration.version == "2"
    assert not registration.champion
    client = RegistryClient()
    assert client.get_registered_model("iris").aliases == {"champion": "1"}
    assert client.get_model_version("iris", "2").tags["mlflowx.evaluation.passed"] == "false"
    # A better (equal) challenger moves it.
    again = train_model(IRIS, GOOD, experiment="tasks")
    registration = register_trained(
        again, "iris", evaluate_model(again, IRIS, BAR, model_name="iris")
    )
    assert registration.champion
    assert registration.previous_champion == "1"
    assert client.get_registered_model("iris").aliases == {"champion": "3"}


def test_deploy_process_checks_health_and_a_prediction_and_tags_the_version() -> None:
    trained = train_model(IRIS, GOOD, experiment="tasks")
    register_trained(trained, "iris")
    assert deploy_champion("iris", DeploySpec(target="none")) is None
    rollout = deploy_champion("iris", DeploySpec(target="process", keep_running=False))
    assert rollout is not None
    assert rollout.target == "process"
    assert rollout.model_uri == "models:/iris/1"
    assert len(rollout.prediction) == 5  # the model's own input example
    assert all(p in (0, 1, 2) for p in rollout.prediction)
    tags = RegistryClient().get_model_version("iris", "1").tags
    assert tags["mlflowx.deployment.target"] == "process"
    assert tags["mlflowx.deployment.url"] == rollout.url
    assert tags["mlflowx.deployment.pid"] == str(rollout.pid)


def test_deploy_without_a_champion_is_not_found() -> None:
    trained = train_model(IRIS, GOOD, experiment="tasks")
    register_trained(trained, "iris", evaluate_model(trained, IRIS, BAR, model_name="iris"))
    RegistryClient().delete_registered_model_alias("iris", "champion")
    with pytest.raises(mlflowx.MlflowxError, match="champion"):
        deploy_champion("iris", DeploySpec(target="process", keep_running=False))


class FakeDeployments:
    """DockerDeployments' interface over a real local scoring server (no Docker needed): the
    tasks' own logic (create vs update, checks, tags) is what is under test here."""

    servers: ClassVar[dict[str, Any]] = {}

    def get(self, name: str) -> Any:
        if name not in self.servers:
            raise NotFound(f"No Docker deployment named {name!r}")
        return self._describe(name)

    def _describe(self, name: str, image: str | None = None) -> Any:
        from mlflowx.serving.docker import ModelDeployment

        server = self.servers[name]
        return ModelDeployment(
            name, server.url, server.port, server.model_uri, image or "img:1", "c1", "p1", "n"
        )

    def create(self, name: str, model_uri: str, port: int, **kwargs: Any) -> Any:
        from mlflowx.serving import start_scoring_server

        assert 0 < port < 65536
        self.servers[name] = start_scoring_server(model_uri, port=port)
        return self._describe(name, kwargs.get("image"))

    def update(self, name: str, model_uri: str, **kwargs: Any) -> Any:
        self.servers.pop(name).stop()
        return self.create(name, model_uri, free_port(), **kwargs)


@pytest.fixture
def fake_docker(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FakeDeployments]]:
    import mlflowx.serving.docker as docker_api

    deploy_module = sys.modules["mlflowx.orchestration.tasks.deploy"]

    monkeypatch.setattr(docker_api, "DockerDeployments", FakeDeployments)
    monkeypatch.setattr(deploy_module, "docker_available", lambda: True)
    try:
        yield FakeDeployments
    finally:
        while FakeDeployments.servers:
            FakeDeployments.servers.popitem()[1].stop()


def test_deploy_docker_creates_then_updates_the_container_and_tags_versions(
    fake_docker: type[FakeDeployments],
) -> None:
    first = train_model(IRIS, GOOD, experiment="tasks")
    register_trained(first, "iris")
    rollout = deploy_champion("iris", DeploySpec(target="docker", name="iris-web"))
    assert rollout is not None
    assert rollout.target == "docker"
    assert rollout.container_id == "c1"
    assert len(rollout.prediction) == 5
    second = train_model(IRIS, GOOD, experiment="tasks")
    register_trained(second, "iris")
    rollout = deploy_champion("iris", DeploySpec(target="docker", name="iris-web"))
    assert rollout is not None
    assert rollout.model_uri == "models:/iris/2"
    assert fake_docker.servers["iris-web"].model_uri == "models:/iris/2"
    tags = RegistryClient().get_model_version("iris", "2").tags
    assert tags["mlflowx.deployment.target"] == "docker"
    assert tags["mlflowx.deployment.image"] == "img:1"
    assert tags["mlflowx.deployment.container_id"] == "c1"


def test_deploy_docker_without_a_daemon_falls_back_to_a_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deploy_module = sys.modules["mlflowx.orchestration.tasks.deploy"]

    monkeypatch.setattr(deploy_module, "docker_available", lambda: False)
    trained = train_model(IRIS, GOOD, experiment="tasks")
    register_trained(trained, "iris")
    rollout = deploy_champion("iris", DeploySpec(target="docker", keep_running=False))
    assert rollout is not None
    assert rollout.target == "process"


def test_build_image_and_deploy_model_tasks_tag_the_version(
    fake_docker: type[FakeDeployments], monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflowx.serving.docker as docker_api
    from mlflowx.orchestration.tasks.deploy import build_model_image_task, deploy_model_container
    from mlflowx.serving.docker import BuiltImage

    built: list[tuple[str, str]] = []

    def fake_build(model_uri: str, image: str, **kwargs: Any) -> BuiltImage:
        built.append((model_uri, image))
        return BuiltImage(image, "sha256:abc", 123)

    monkeypatch.setattr(docker_api, "build_model_image", fake_build)
    trained = train_model(IRIS, GOOD, experiment="tasks")
    register_trained(trained, "iris")
    image = build_model_image_task("models:/iris@champion", "iris-model:1")
    assert image == {"name": "iris-model:1", "id": "sha256:abc", "size_bytes": 123}
    assert built == [("models:/iris@champion", "iris-model:1")]
    deployed = deploy_model_container("iris-svc", "models:/iris/1", image="iris-model:1")
    assert deployed["image"] == "iris-model:1"
    tags = RegistryClient().get_model_version("iris", "1").tags
    assert tags["mlflowx.deployment.image_id"] == "sha256:abc"
    assert tags["mlflowx.deployment.name"] == "iris-svc"
    assert tags["mlflowx.deployment.url"] == deployed["url"]
