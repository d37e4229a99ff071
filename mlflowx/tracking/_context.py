"""Where the fluent API keeps its state: context variables, not thread-locals or globals.

The active-run stack lives in a ``ContextVar`` so that it follows ``contextvars.copy_context()``
into worker threads and tasks (Prefect does this), instead of silently losing the parent.
"""

from __future__ import annotations

from contextvars import ContextVar

from mlflowx import settings
from mlflowx.entities import Run

#: The stack of active runs, innermost last.
active_runs: ContextVar[tuple[Run, ...]] = ContextVar("mlflowx_active_runs", default=())
#: The run most recently ended in this context.
last_run: ContextVar[Run | None] = ContextVar("mlflowx_last_run", default=None)
#: The logged model most recently created in this context (``mlflowx.last_logged_model``).
last_logged_model_id: ContextVar[str | None] = ContextVar(
    "mlflowx_last_logged_model_id", default=None
)
#: The experiment chosen with set_experiment.
active_experiment_id: ContextVar[str | None] = ContextVar(
    "mlflowx_active_experiment_id", default=None
)


def env_run_id() -> str | None:
    """A run handed down by a parent process (MLflow's ``MLFLOW_RUN_ID``)."""
    return settings.env("MLFLOWX_RUN_ID")


def env_experiment() -> tuple[str | None, str | None]:
    """(experiment id, experiment name) from the environment, MLflow's names as fallback."""
    return settings.env("MLFLOWX_EXPERIMENT_ID"), settings.env("MLFLOWX_EXPERIMENT_NAME")
