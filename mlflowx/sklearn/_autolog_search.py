"""Parameter searches (``GridSearchCV``, ``RandomizedSearchCV``), as MLflow records them.

The parent run also gets the best estimator as the ``best_estimator`` model, ``best_cv_score``
and ``cv_results.csv``; each of the ``max_tuning_runs`` best candidates becomes a finished child
run (``mlflow.parentRunId``) with its full params and its mean/std/rank scores and timings.
"""

from __future__ import annotations

import tempfile
from numbers import Number
from pathlib import Path
from typing import Any

from mlflowx.entities import now_ms
from mlflowx.sklearn._autolog_log import (
    AUTOLOGGING_TAG,
    AutologConfig,
    FitData,
    attempt,
    estimator_params,
    estimator_tags,
    log_metrics,
    log_model,
    log_params,
    train_input,
    warn,
)
from mlflowx.tracking.client import MlflowxClient
from mlflowx.tracking.fluent import PARENT_RUN_TAG

__all__ = ["log_search"]

#: Lineage tags a child run copies from its parent (MLflow resolves the same context again).
_INHERITED_TAGS = ("mlflow.user", "mlflow.source.", "mlflow.git.")


def log_search(
    client: MlflowxClient, run_id: str, config: AutologConfig, search: Any, data: FitData
) -> None:
    if config.log_models and hasattr(search, "best_estimator_"):
        with attempt(config, "logging the best estimator"):
            log_model(config, search.best_estimator_, "best_estimator", data, None)
    if hasattr(search, "best_score_"):
        with attempt(config, "logging best_cv_score"):
            log_metrics(client, run_id, {"best_cv_score": search.best_score_})
    if hasattr(search, "cv_results_"):
        with attempt(config, "creating the child runs of the parameter search"):
            _child_runs(client, run_id, config, search, data)
        with attempt(config, "logging cv_results.csv"):
            _log_cv_results(client, run_id, search.cv_results_)


def _rank_column(config: AutologConfig, search: Any, results: dict[str, Any]) -> str | None:
    if "rank_test_score" in results:
        return "rank_test_score"
    if isinstance(search.refit, str) and f"rank_test_{search.refit}" in results:
        return f"rank_test_{search.refit}"
    first = next((k for k in results if k.startswith("rank_test_")), None)
    if first is not None and config.max_tuning_runs is not None:
        warn(
            config,
            f"the best {config.max_tuning_runs} child runs are chosen by {first}; "
            "pass max_tuning_runs=None to log every candidate",
        )
    return first


def _best_rows(config: AutologConfig, search: Any, results: dict[str, Any]) -> list[int]:
    import numpy as np

    rows = len(results["params"])
    rank = _rank_column(config, search, results)
    if config.max_tuning_runs is None or rank is None:
        return list(range(rows))
    order = np.argsort(np.asarray(results[rank]), kind="stable")  # ties keep search order
    return [int(i) for i in order[: config.max_tuning_runs]]


def _child_runs(
    client: MlflowxClient, run_id: str, config: AutologConfig, search: Any, data: FitData
) -> None:
    parent = client.get_run(run_id)
    seed = search.estimator
    base_params = estimator_params(seed)
    tags = {k: v for k, v in parent.data.tags.items() if k.startswith(_INHERITED_TAGS)}
    tags |= {AUTOLOGGING_TAG: "sklearn", PARENT_RUN_TAG: run_id, **estimator_tags(seed)}
    results = search.cv_results_
    # Candidates were tried while the parent ran: its start is their best-known start time.
    start, end = parent.info.start_time, now_ms()
    for i in _best_rows(config, search, results):
        child = client.create_run(parent.info.experiment_id, start_time=start, tags=tags)
        child_id = child.info.run_id
        try:
            log_params(client, child_id, {**base_params, **results["params"][i]})
            # The per-split scores are verbose and the param_* columns repeat "params".
            log_metrics(
                client,
                child_id,
                {
                    k: v[i]
                    for k, v in results.items()
                    if not k.startswith(("param", "split")) and isinstance(v[i], Number)
                },
            )
            if data.dataset is not None:
                client.log_inputs(child_id, [train_input(data.dataset)])
        finally:
            client.set_terminated(child_id, "FINISHED", end_time=end)


def _log_cv_results(client: MlflowxClient, run_id: str, results: dict[str, Any]) -> None:
    import pandas as pd

    with tempfile.TemporaryDirectory(prefix="mlflowx-autolog-") as tmp:
        path = Path(tmp) / "cv_results.csv"
        pd.DataFrame.from_dict(results).to_csv(path, index=False)
        client.log_artifact(run_id, path)
