"""The one parser of ``models:/`` and ``runs:/`` URIs agrees with MLflow's own, URI by URI."""

from __future__ import annotations

import pytest

from mlflowx.exceptions import InvalidParameter
from mlflowx.utils.uri import ParsedModelUri, parse_model_uri, parse_runs_uri

MODEL_ID = "m-" + "0123456789abcdef" * 2

CASES = [
    "models:/name/3",
    "models:/name/Production",
    "models:/name/staging",
    "models:/name/latest",
    "models:/name/LATEST",
    "models:/name@champion",
    "models:/na@me@alias",
    "models:/name@latest",
    "models:/just-a-name",
    f"models:/{MODEL_ID}",
    "models:/m-foo/1",
    "models:/with space/2",
]
BAD = ["models:/", "models:", "models:/name/", "models:/name@", "runs:/x/1", "models:/a/b/c"]


@pytest.mark.parametrize("uri", CASES)
def test_models_uri_parses_as_mlflow_parses_it(uri: str) -> None:
    from mlflow.store.artifact.utils.models import _parse_model_uri

    theirs = _parse_model_uri(uri)
    ours = parse_model_uri(uri, allow_path=False)
    assert (ours.model_id, ours.name, ours.version, ours.stage, ours.alias) == tuple(theirs)
    assert ours == parse_model_uri(uri)
    assert ours.path == ""


@pytest.mark.parametrize("uri", BAD)
def test_improper_models_uri_refused_as_mlflow_refuses_it(uri: str) -> None:
    from mlflow.exceptions import MlflowException
    from mlflow.store.artifact.utils.models import _parse_model_uri

    with pytest.raises(MlflowException, match="Not a proper") as theirs:
        _parse_model_uri(uri)
    with pytest.raises(InvalidParameter, match="Not a proper") as ours:
        parse_model_uri(uri, allow_path=False)
    assert str(ours.value) == theirs.value.message


@pytest.mark.parametrize(
    ("uri", "head", "path"),
    [
        ("models:/name/3/MLmodel", "models:/name/3", "MLmodel"),
        ("models:/name@champ/data/model.pkl", "models:/name@champ", "data/model.pkl"),
        ("models:/name/Staging/a/b/", "models:/name/Staging", "a/b"),
    ],
)
def test_a_path_inside_the_model_splits_as_mlflows_artifact_repository_does(
    uri: str, head: str, path: str
) -> None:
    from mlflow.store.artifact.models_artifact_repo import ModelsArtifactRepository

    assert ModelsArtifactRepository.split_models_uri(uri.rstrip("/")) == (head, path)
    parsed = parse_model_uri(uri)
    assert parsed.path == path
    assert parse_model_uri(head) == ParsedModelUri(
        parsed.model_id, parsed.name, parsed.version, parsed.stage, parsed.alias
    )


def test_an_alias_without_a_model_name_is_refused() -> None:
    # MLflow parses models:/@alias as the alias of a model named "" (then fails to find it).
    with pytest.raises(InvalidParameter, match="Not a proper models:/ URI"):
        parse_model_uri("models:/@alias")


def test_logged_model_ids_take_any_path_and_latest_is_a_property() -> None:
    assert parse_model_uri(f"models:/{MODEL_ID}/artifacts/MLmodel") == ParsedModelUri(
        model_id=MODEL_ID, path="artifacts/MLmodel"
    )
    # Where a version is meant (allow_path=False), MLflow's reading: name m-..., stage "x".
    assert parse_model_uri(f"models:/{MODEL_ID}/x", allow_path=False).stage == "x"
    assert parse_model_uri("models:/name/latest").latest
    assert parse_model_uri("models:/name@champ").latest is False
    assert parse_model_uri("models:/name/1").latest is False


def test_runs_uri() -> None:
    assert parse_runs_uri("runs:/abc/model/MLmodel") == ("abc", "model/MLmodel")
    assert parse_runs_uri("runs:/abc") == ("abc", None)
    for bad in ("runs:/", "runs:abc", "models:/x/1", "runs://"):
        with pytest.raises(InvalidParameter, match="runs:/"):
            parse_runs_uri(bad)
