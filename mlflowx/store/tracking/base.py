"""The tracking store contract: what every backend (SQL, REST, ...) implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Protocol

from mlflowx.entities import (
    DatasetInput,
    DatasetSummary,
    Experiment,
    LoggedModel,
    LoggedModelStatus,
    Metric,
    ModelInput,
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
    "any_model_metric",
    "check_history_bulk",
    "check_history_interval",
    "check_search_datasets",
    "sample_indices",
    "validate_batch",
    "validate_metric_points",
    "validate_params_and_tags",
]

SEARCH_MAX_RESULTS_DEFAULT = 1000
#: MLflow's limits for the bulk history endpoints.
HISTORY_BULK_MAX_RUNS = 100
HISTORY_BULK_MAX_RESULTS = 25_000
HISTORY_INTERVAL_MAX_RESULTS = 2_500
#: MLflow's limits for ``experiments/search-datasets``.
SEARCH_DATASETS_MAX_EXPERIMENTS = 20
SEARCH_DATASETS_MAX_RESULTS = 1000


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
    #: Local directories where this store's own users keep artifacts: a tracking server on the
    #: store lets its clients read (and place experiments) there, and nowhere else locally.
    local_artifact_roots: tuple[str, ...] = ()
    #: Writes are short and local (an embedded database): the server may run them on its
    #: event loop instead of a thread (see ``mlflowx.server.deps.write``).
    inline_writes: bool = False
    #: ``log_metric`` is one short statement that holds no lock once it returns (or, with
    #: ``inline_writes``, a local one): the server runs it on its event loop on this store
    #: (see ``mlflowx.server.deps.write_metric``).
    inline_metric_writes: bool = False
    #: How many writes are worth running at once (the database's connection pool); the server
    #: queues the rest on its event loop instead of parking threads. 0: no limit of its own.
    write_concurrency: int = 0

    # ------------------------------------------------------------------ experiments
    @abstractmethod
    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Sequence[RunTag] = ()
    ) -> str:
        """Create an experiment and return its id.

        ``artifact_location`` must pass :func:`mlflowx.store.locations.check_location`
        (allowed scheme and host; no fragment, query, parameters or ``..``).
        """

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
        v.validate_param(param.key, param.value)  # messages name "key", not "params[0].key"
        self.log_batch(run_id, params=[param])

    def set_tag(self, run_id: str, tag: RunTag) -> None:
        v.validate_tag(tag.key, tag.value)
        self.log_batch(run_id, tags=[tag])

    @abstractmethod
    def delete_tag(self, run_id: str, key: str) -> None: ...

    @abstractmethod
    def log_inputs(
        self, run_id: str, datasets: Sequence[DatasetInput], models: Sequence[ModelInput] = ()
    ) -> None:
        """Record datasets and logged models (recorded by id, not looked up, as in MLflow) as
        the run's inputs; a dataset or model already recorded is kept as it was."""

    @abstractmethod
    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[Metric]: ...

    def get_metric_history_bulk(
        self, run_ids: Sequence[str], metric_key: str, max_results: int | None = None
    ) -> list[Metric]:
        """One metric's history for several runs (MLflow's ``metrics/get-history-bulk``): runs in
        id order, each run's points by timestamp, step and value, ``max_results`` in all."""
        run_ids, limit = check_history_bulk(run_ids, metric_key, max_results)
        points: list[Metric] = []
        for run_id in sorted(run_ids):
            page = self.get_metric_history(run_id, metric_key, limit)
            points.extend(sorted(page, key=lambda m: (m.timestamp, m.step, m.value)))
        return points[:limit]

    @abstractmethod
    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        metric_key: str,
        max_results: int = HISTORY_INTERVAL_MAX_RESULTS,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Metric]:
        """One metric of several runs downsampled for a chart (MLflow's
        ``metrics/get-history-bulk-interval``): each run's points in ``[start_step, end_step]``,
        ordered by step, timestamp and value, cut into ``max_results`` even buckets (SQL's
        ``NTILE``) of which the first point is kept, and the run's last point always kept in
        place of the last bucket's. Runs in the order given; see :func:`check_history_interval`.
        """

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

    @abstractmethod
    def search_datasets(self, experiment_ids: Sequence[str]) -> list[DatasetSummary]:
        """The datasets the runs of these experiments logged, one summary per dataset and
        context (MLflow's ``experiments/search-datasets``, which the UI's dataset filter uses);
        at most :data:`SEARCH_DATASETS_MAX_RESULTS`. See :func:`check_search_datasets`."""

    # ------------------------------------------------------------------ logged models (MLflow 3)
    @abstractmethod
    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
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


def check_search_datasets(experiment_ids: Sequence[str]) -> list[str]:
    """The experiment ids of a dataset search, checked with MLflow's limits and wording."""
    ids = [experiment_ids] if isinstance(experiment_ids, str) else list(experiment_ids)
    if not ids:
        raise InvalidParameter("SearchDatasets request must specify at least one experiment_id.")
    if len(ids) > SEARCH_DATASETS_MAX_EXPERIMENTS:
        raise InvalidParameter(
            f"SearchDatasets request cannot specify more than {SEARCH_DATASETS_MAX_EXPERIMENTS}"
            f" experiment_ids. Received {len(ids)} experiment_ids."
        )
    return ids


def check_history_bulk(
    run_ids: Sequence[str], metric_key: str | None, max_results: int | None
) -> tuple[list[str], int]:
    """The run ids and the cap of a ``get-history-bulk`` request, or MLflow's error for them."""
    ids = list(run_ids)
    if not ids:
        raise InvalidParameter("GetMetricHistoryBulk request must specify at least one run_id.")
    if len(ids) > HISTORY_BULK_MAX_RUNS:
        raise InvalidParameter(
            f"GetMetricHistoryBulk request cannot specify more than {HISTORY_BULK_MAX_RUNS} "
            f"run_ids. Received {len(ids)} run_ids."
        )
    if not metric_key:
        raise InvalidParameter("GetMetricHistoryBulk request must specify a metric_key.")
    limit = HISTORY_BULK_MAX_RESULTS if max_results is None else max_results
    if limit < 1:
        raise InvalidParameter(f"max_results must be positive, got {limit}.")
    return ids, min(limit, HISTORY_BULK_MAX_RESULTS)


def check_history_interval(
    run_ids: Sequence[str],
    metric_key: str | None,
    max_results: int | None,
    start_step: int | None,
    end_step: int | None,
) -> tuple[list[str], int]:
    """The run ids and the points per run of a ``get-history-bulk-interval`` request, or
    MLflow's error for them."""
    ids = list(dict.fromkeys(run_ids))  # a run named twice is sampled once
    if not ids:
        raise InvalidParameter("Missing value for required parameter 'run_ids'.")
    if len(ids) > HISTORY_BULK_MAX_RUNS:
        raise InvalidParameter(
            f"GetMetricHistoryBulkInterval request must specify at most "
            f"{HISTORY_BULK_MAX_RUNS} run_ids. Received {len(ids)} run_ids."
        )
    if not metric_key:
        raise InvalidParameter("Missing value for required parameter 'metric_key'.")
    limit = HISTORY_INTERVAL_MAX_RESULTS if max_results is None else max_results
    if not 1 <= limit <= HISTORY_INTERVAL_MAX_RESULTS:
        raise InvalidParameter(f"max_results must be between 1 and {HISTORY_INTERVAL_MAX_RESULTS}.")
    if (start_step is None) != (end_step is None):
        raise InvalidParameter(
            "If either start step or end step are specified, both must be specified."
        )
    if start_step is not None and end_step is not None and start_step > end_step:
        raise InvalidParameter(
            "end_step must be greater than start_step. "
            f"Found start_step={start_step} and end_step={end_step}."
        )
    return ids, limit


def sample_indices(total: int, buckets: int) -> list[int]:
    """Which of ``total`` ordered rows (from 0) MLflow's downsampling keeps: ``NTILE(buckets)``
    cuts them into buckets (the first ``total % buckets`` one row longer), the first row of
    each is kept, and the last row is always kept, in the last bucket's place."""
    if total <= buckets:
        return list(range(total))
    q, r = divmod(total, buckets)
    starts = [b * (q + 1) if b < r else r * (q + 1) + (b - r) * q for b in range(buckets)]
    starts[-1] = total - 1 if starts[-1] != total - 1 else starts[-1]
    return starts


def validate_batch(
    metrics: Sequence[MetricLike], params: Sequence[KeyValueLike], tags: Sequence[KeyValueLike]
) -> tuple[list[Metric], dict[str, str], dict[str, str]]:
    """Check a whole batch before anything is written (every store, client side too).

    Returns the normalised metrics and the params and tags as dicts (a key repeated with the
    same value collapses; a param key repeated with another value is an error). Messages name
    the offending item, e.g. ``metrics[3]: ...``.
    """
    v.validate_batch_sizes(metrics, params, tags)
    points = validate_metric_points(metrics)
    if any_model_metric(metrics):
        checked = [
            Metric(*point, None, *_model_fields(m))
            for m, point in zip(metrics, points, strict=True)
        ]
    else:
        checked = [Metric(*point) for point in points]
    return checked, *validate_params_and_tags(params, tags)


def any_model_metric(metrics: Sequence[MetricLike]) -> bool:
    """Whether a metric of the batch names a logged model or a dataset (MLflow 3); the common
    batch without them pays one attribute read per metric."""
    try:
        return any([m.model_id or m.dataset_name for m in metrics])  # type: ignore[attr-defined]
    except AttributeError:  # a metric-like object without these fields
        return any(_model_fields(m) != (None, None, None) for m in metrics)


def _model_fields(m: MetricLike) -> tuple[str | None, str | None, str | None]:
    """A metric's logged model and dataset (MLflow 3), when it has them."""
    return (
        getattr(m, "model_id", None) or None,
        getattr(m, "dataset_name", None) or None,
        getattr(m, "dataset_digest", None) or None,
    )


def validate_metric_points(metrics: Sequence[MetricLike]) -> list[tuple[str, float, int, int]]:
    """Each metric checked and normalised to ``(key, value, timestamp, step)``, in one pass."""
    check = v.validate_metric
    try:
        return [check(m.key, m.value, m.timestamp, m.step) for m in metrics]
    except InvalidParameter:
        pass
    for i, m in enumerate(metrics):  # again, slowly, to name the offending item
        check(m.key, m.value, m.timestamp, m.step, path=f"metrics[{i}]")
    raise AssertionError("unreachable")  # pragma: no cover


def validate_params_and_tags(
    params: Sequence[KeyValueLike], tags: Sequence[KeyValueLike]
) -> tuple[dict[str, str], dict[str, str]]:
    """Params and tags of a batch as dicts (see :func:`validate_batch`)."""
    param_map: dict[str, str] = {}
    repeated: list[str] = []
    for i, p in enumerate(params):
        pkey, pvalue = v.validate_param(p.key, p.value, path=f"params[{i}]")
        if pkey in param_map and param_map[pkey] != pvalue:
            repeated.append(pkey)
        param_map[pkey] = pvalue
    if repeated:
        raise v.duplicate_param_keys(repeated)
    tag_map: dict[str, str] = {}
    for i, t in enumerate(tags):
        tkey, tvalue = v.validate_tag(t.key, t.value, path=f"tags[{i}]")
        tag_map[tkey] = tvalue
    return param_map, tag_map
