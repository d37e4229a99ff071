"""The tracking store contract: what every backend (SQL, REST, ...) implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Protocol

from mlflowx.entities import (
    DatasetInput,
    Experiment,
    LoggedModel,
    LoggedModelStatus,
    Metric,
    ModelOutput,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from mlflowx.exceptions import InvalidParameter
from mlflowx.utils import validation as v

__all__ = [
    "KeyValueLike",
    "MetricLike",
    "TrackingStore",
    "validate_batch",
    "validate_metric_points",
    "validate_params_and_tags",
]

SEARCH_MAX_RESULTS_DEFAULT = 1000


class MetricLike(Protocol):
    """A metric point as ``log_batch`` reads it: a :class:`Metric`, or a wire model with the
    same fields (the server passes what it parsed, without building entities first)."""

    @property
    def key(self) -> str: ...
    @property
    def value(self) -> float: ...
    @property
    def timestamp(self) -> int: ...
    @property
    def step(self) -> int: ...


class KeyValueLike(Protocol):
    """A param or tag as ``log_batch`` reads it (:class:`Param`, :class:`RunTag`, a wire model)."""

    @property
    def key(self) -> str: ...
    @property
    def value(self) -> str: ...


class TrackingStore(ABC):
    """Experiments, runs and their data. Every method is synchronous and validates its input."""

    #: Where new experiments put their artifacts unless they name a location.
    default_artifact_root: str
    #: Writes are short and local (an embedded database): the server may run them on its
    #: event loop instead of a thread (see ``mlflowx.server.deps.write``).
    inline_writes: bool = False

    # ------------------------------------------------------------------ experiments
    @abstractmethod
    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Sequence[RunTag] = ()
    ) -> str: ...

    @abstractmethod
    def get_experiment(self, experiment_id: str) -> Experiment: ...

    @abstractmethod
    def get_experiment_by_name(self, name: str) -> Experiment | None: ...

    @abstractmethod
    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]: ...

    @abstractmethod
    def delete_experiment(self, experiment_id: str) -> None: ...

    @abstractmethod
    def restore_experiment(self, experiment_id: str) -> None: ...

    @abstractmethod
    def rename_experiment(self, experiment_id: str, new_name: str) -> None: ...

    @abstractmethod
    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None: ...

    @abstractmethod
    def delete_experiment_tag(self, experiment_id: str, key: str) -> None: ...

    # ------------------------------------------------------------------ runs
    @abstractmethod
    def create_run(
        self,
        experiment_id: str,
        user_id: str | None,
        start_time: int | None,
        tags: Sequence[RunTag],
        run_name: str | None,
    ) -> Run: ...

    @abstractmethod
    def get_run(self, run_id: str) -> Run: ...

    @abstractmethod
    def update_run_info(
        self,
        run_id: str,
        run_status: RunStatus | None,
        end_time: int | None,
        run_name: str | None = None,
    ) -> RunInfo: ...

    @abstractmethod
    def delete_run(self, run_id: str) -> None: ...

    @abstractmethod
    def restore_run(self, run_id: str) -> None: ...

    @abstractmethod
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[MetricLike] = (),
        params: Sequence[KeyValueLike] = (),
        tags: Sequence[KeyValueLike] = (),
    ) -> None:
        """Log everything or nothing: a rejected item leaves the run unchanged."""

    def finish_run(
        self,
        run_id: str,
        status: RunStatus,
        end_time: int,
        metrics: Sequence[MetricLike] = (),
        params: Sequence[KeyValueLike] = (),
        tags: Sequence[KeyValueLike] = (),
    ) -> None:
        """A run's last batch and its end (status and end time), the two writes that end a
        run. Stores with transactions make them one, all or nothing; this default makes them
        one after the other."""
        if metrics or params or tags:
            self.log_batch(run_id, metrics, params, tags)
        self.update_run_info(run_id, status, end_time)

    def log_metric(self, run_id: str, metric: Metric) -> None:
        self.log_batch(run_id, metrics=[metric])

    def log_param(self, run_id: str, param: Param) -> None:
        self.log_batch(run_id, params=[param])

    def set_tag(self, run_id: str, tag: RunTag) -> None:
        self.log_batch(run_id, tags=[tag])

    @abstractmethod
    def delete_tag(self, run_id: str, key: str) -> None: ...

    @abstractmethod
    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None: ...

    @abstractmethod
    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[Metric]: ...

    @abstractmethod
    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]: ...

    # ------------------------------------------------------------------ logged models (MLflow 3)
    @abstractmethod
    def create_logged_model(
        self,
        experiment_id: str,
        name: str,
        source_run_id: str | None = None,
        model_type: str | None = None,
        params: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
    ) -> LoggedModel: ...

    @abstractmethod
    def get_logged_model(self, model_id: str) -> LoggedModel: ...

    @abstractmethod
    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus) -> LoggedModel: ...

    @abstractmethod
    def set_logged_model_tags(self, model_id: str, tags: dict[str, str]) -> None: ...

    @abstractmethod
    def delete_logged_model_tag(self, model_id: str, key: str) -> None: ...

    @abstractmethod
    def log_logged_model_params(self, model_id: str, params: dict[str, str]) -> None: ...

    @abstractmethod
    def delete_logged_model(self, model_id: str) -> None: ...

    @abstractmethod
    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]: ...

    @abstractmethod
    def log_outputs(self, run_id: str, models: Sequence[ModelOutput]) -> None: ...

    def close(self) -> None:  # noqa: B027 - optional hook, most stores hold nothing
        """Release connections; the store is unusable afterwards."""


def validate_batch(
    metrics: Sequence[MetricLike], params: Sequence[KeyValueLike], tags: Sequence[KeyValueLike]
) -> tuple[list[Metric], dict[str, str], dict[str, str]]:
    """Check a whole batch before anything is written (every store, client side too).

    Returns the normalised metrics and the params and tags as dicts (a key repeated with the
    same value collapses; a param key repeated with another value is an error). Messages name
    the offending item, e.g. ``metrics[3]: ...``.
    """
    v.validate_batch_sizes(metrics, params, tags)
    checked = [Metric(*point) for point in validate_metric_points(metrics)]
    return checked, *validate_params_and_tags(params, tags)


def validate_metric_points(metrics: Sequence[MetricLike]) -> list[tuple[str, float, int, int]]:
    """Each metric checked and normalised to ``(key, value, timestamp, step)``, in one pass."""
    check = v.validate_metric
    try:
        return [check(m.key, m.value, m.timestamp, m.step) for m in metrics]
    except InvalidParameter:
        pass
    for i, m in enumerate(metrics):  # again, slowly, to name the offending item
        try:
            check(m.key, m.value, m.timestamp, m.step)
        except InvalidParameter as exc:
            raise InvalidParameter(f"metrics[{i}]: {exc.message}") from None
    raise AssertionError("unreachable")  # pragma: no cover


def validate_params_and_tags(
    params: Sequence[KeyValueLike], tags: Sequence[KeyValueLike]
) -> tuple[dict[str, str], dict[str, str]]:
    """Params and tags of a batch as dicts (see :func:`validate_batch`)."""
    param_map: dict[str, str] = {}
    for i, p in enumerate(params):
        try:
            pkey, pvalue = v.validate_param(p.key, p.value)
        except InvalidParameter as exc:
            raise InvalidParameter(f"params[{i}]: {exc.message}") from None
        if pkey in param_map and param_map[pkey] != pvalue:
            raise InvalidParameter(
                f"Duplicate parameter keys have been submitted: key {pkey!r} appears with "
                f"values {param_map[pkey]!r} and {pvalue!r}"
            )
        param_map[pkey] = pvalue
    tag_map: dict[str, str] = {}
    for i, t in enumerate(tags):
        try:
            tkey, tvalue = v.validate_tag(t.key, t.value)
        except InvalidParameter as exc:
            raise InvalidParameter(f"tags[{i}]: {exc.message}") from None
        tag_map[tkey] = tvalue
    return param_map, tag_map
