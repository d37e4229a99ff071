"""``register``: a new model version with its lineage; the champion alias moves only on a pass."""

from __future__ import annotations

from prefect import task
from pydantic import BaseModel

import mlflowx
from mlflowx.orchestration import lineage
from mlflowx.orchestration._context import flow_run_tags
from mlflowx.orchestration.tasks.evaluate import CHAMPION_ALIAS, EvaluationOutcome, current_champion
from mlflowx.orchestration.tasks.progress import reports
from mlflowx.orchestration.tasks.train import TrainResult

__all__ = ["LINEAGE_TAG_PREFIX", "Registration", "register", "register_trained"]

LINEAGE_TAG_PREFIX = "mlflowx.lineage."


class Registration(BaseModel):
    """The version ``register`` made and whether it became the champion."""

    name: str
    version: str
    model_uri: str
    champion: bool
    previous_champion: str | None = None
    run_id: str


def register_trained(
    trained: TrainResult,
    model_name: str,
    outcome: EvaluationOutcome | None = None,
    *,
    alias: str = CHAMPION_ALIAS,
) -> Registration:
    """Register ``trained`` as the next version of ``model_name`` and point ``alias`` at it
    when ``outcome`` passed (or when there is no evaluation). The version's tags record its
    lineage: the training run, the estimator, the evaluation verdict and the Prefect flow run.
    """
    from mlflowx.registry.client import RegistryClient

    lineage_tags: dict[str, object] = {
        f"{LINEAGE_TAG_PREFIX}run_id": trained.run_id,
        f"{LINEAGE_TAG_PREFIX}model_id": trained.model_id,
        f"{LINEAGE_TAG_PREFIX}estimator": trained.estimator,
        **flow_run_tags(),
    }
    passed = outcome.passed if outcome is not None else True
    if outcome is not None:
        lineage_tags["mlflowx.evaluation.passed"] = str(outcome.passed).lower()
        lineage_tags["mlflowx.evaluation.champion_version"] = outcome.champion_version or ""
        if outcome.failures:
            lineage_tags["mlflowx.evaluation.failures"] = "; ".join(outcome.failures)[:4000]
    version = mlflowx.register_model(
        trained.model_uri,
        model_name,
        tags={k: str(v) for k, v in lineage_tags.items() if v is not None},
    )
    previous = None
    if passed:
        previous = current_champion(model_name, alias)
        RegistryClient().set_registered_model_alias(model_name, alias, version.version)
    page = lineage.model_version_url(mlflowx.get_registry_uri(), model_name, str(version.version))
    label = f"{model_name} version {version.version}"
    lineage.publish(
        lineage.MODEL_VERSION_KEY,
        (f"[{label} in mlflowx]({page})" if page else f"{label}: `{version.source}`")
        + (f", now @{alias}\n" if passed else "\n"),
        f"The model version this run registered ({label})",
    )
    return Registration(
        name=model_name,
        version=str(version.version),
        model_uri=f"models:/{model_name}/{version.version}",
        champion=passed,
        previous_champion=previous,
        run_id=trained.run_id,
    )


def _summary(result: object) -> str:
    assert isinstance(result, Registration)
    moved = f", alias {CHAMPION_ALIAS} moved" if result.champion else ", champion unchanged"
    return f"{result.name} version {result.version}{moved}"


register = task(name="register")(reports("register", _summary)(register_trained))
