"""``register``: a new model version with its lineage; the champion alias moves only on a pass."""

from __future__ import annotations

from prefect import task
from pydantic import BaseModel

import mlflowx
from mlflowx.exceptions import NotFound
from mlflowx.orchestration.tasks._runs import flow_run_lineage, str_tags
from mlflowx.orchestration.tasks.evaluate import CHAMPION_ALIAS, EvaluationOutcome
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

    lineage: dict[str, object] = {
        f"{LINEAGE_TAG_PREFIX}run_id": trained.run_id,
        f"{LINEAGE_TAG_PREFIX}model_id": trained.model_id,
        f"{LINEAGE_TAG_PREFIX}estimator": trained.estimator,
        **flow_run_lineage(),
    }
    passed = outcome.passed if outcome is not None else True
    if outcome is not None:
        lineage["mlflowx.evaluation.passed"] = str(outcome.passed).lower()
        lineage["mlflowx.evaluation.champion_version"] = outcome.champion_version or ""
        if outcome.failures:
            lineage["mlflowx.evaluation.failures"] = "; ".join(outcome.failures)[:4000]
    version = mlflowx.register_model(trained.model_uri, model_name, tags=str_tags(lineage))
    client = RegistryClient()
    previous = None
    if passed:
        try:
            previous = client.get_model_version_by_alias(model_name, alias).version
        except NotFound:
            previous = None
        client.set_registered_model_alias(model_name, alias, version.version)
    return Registration(
        name=model_name,
        version=str(version.version),
        model_uri=f"models:/{model_name}/{version.version}",
        champion=passed,
        previous_champion=previous,
        run_id=trained.run_id,
    )


register = task(name="register")(register_trained)
