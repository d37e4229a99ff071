"""The low-level client: MLflow's ``MlflowClient`` calls over any tracking store."""

from __future__ import annotations

import io
import json
import posixpath
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from mlflowx.entities import (
    DatasetInput,
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
    now_ms,
)
from mlflowx.exceptions import InvalidParameter
from mlflowx.registry.client import RegistryClientMixin
from mlflowx.store.artifacts import get_artifact_repository
from mlflowx.store.artifacts.base import ArtifactRepository, FileInfo
from mlflowx.store.tracking import TrackingStore, get_tracking_store
from mlflowx.store.uris import get_tracking_uri
from mlflowx.tracking._async import AsyncLogger, RunOperations, register_for_exit

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MlflowxClient"]


class MlflowxClient(RegistryClientMixin):
    """Experiments, runs, metrics and artifacts, addressed by id.

    The model registry methods (registered models, versions, stages, aliases) come from
    :class:`~mlflowx.registry.client.RegistryClientMixin`.

    Args:
        tracking_uri: where to track; defaults to :func:`mlflowx.get_tracking_uri`.
        registry_uri: where the model registry is; defaults to :func:`mlflowx.get_registry_uri`
            when a registry URI is set, else to this client's tracking URI (as MLflow).
    """

    def __init__(self, tracking_uri: str | None = None, registry_uri: str | None = None) -> None:
        from mlflowx.store.uris import normalize_uri, resolve_registry_uri

        self.tracking_uri = normalize_uri(tracking_uri) if tracking_uri else get_tracking_uri()
        self.registry_uri = resolve_registry_uri(registry_uri, self.tracking_uri)
        self._artifact_uris: dict[str, str] = {}
        self._async: AsyncLogger | None = None

    @property
    def store(self) -> TrackingStore:
        return get_tracking_store(self.tracking_uri)

    # ------------------------------------------------------------------ experiments
    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> str:
        tag_list = [RunTag(k, str(v)) for k, v in (tags or {}).items()]
        return self.store.create_experiment(name, artifact_location, tag_list)

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self.store.get_experiment(str(experiment_id))

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        return self.store.get_experiment_by_name(name)

    def search_experiments(
        self,
        view_type: ViewType | int | str = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        return self.store.search_experiments(
            ViewType.parse(view_type), max_results, filter_string, order_by, page_token
        )

    def delete_experiment(self, experiment_id: str) -> None:
        self.store.delete_experiment(str(experiment_id))

    def restore_experiment(self, experiment_id: str) -> None:
        self.store.restore_experiment(str(experiment_id))

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self.store.rename_experiment(str(experiment_id), new_name)

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        self.store.set_experiment_tag(str(experiment_id), key, str(value))

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self.store.delete_experiment_tag(str(experiment_id), key)

    # ------------------------------------------------------------------ runs
    def create_run(
        self,
        experiment_id: str,
        start_time: int | None = None,
        tags: Mapping[str, Any] | None = None,
        run_name: str | None = None,
    ) -> Run:
        tag_map = {k: str(v) for k, v in (tags or {}).items()}
        user = tag_map.get("mlflow.user")
        run = self.store.create_run(
            str(experiment_id),
            user,
            start_time,
            [RunTag(k, v) for k, v in tag_map.items()],
            run_name,
        )
        if run.info.artifact_uri:
            self._artifact_uris[run.info.run_id] = run.info.artifact_uri
        return run

    def get_run(self, run_id: str) -> Run:
        return self.store.get_run(run_id)

    def get_parent_run(self, run_id: str) -> Run | None:
        """The run whose ``mlflow.parentRunId`` tag names it as parent of ``run_id``, if any."""
        parent = self.get_run(run_id).data.tags.get("mlflow.parentRunId")
        return None if parent is None else self.get_run(parent)

    def update_run(self, run_id: str, status: str | None = None, name: str | None = None) -> None:
        end_time = now_ms() if status and RunStatus.parse(status).is_terminated else None
        self.store.update_run_info(
            run_id, RunStatus.parse(status) if status else None, end_time, name
        )

    def set_terminated(
        self, run_id: str, status: str | None = "FINISHED", end_time: int | None = None
    ) -> RunInfo:
        self.flush_async_logging()
        return self.store.update_run_info(
            run_id, RunStatus.parse(status or "FINISHED"), end_time or now_ms()
        )

    def delete_run(self, run_id: str) -> None:
        self.store.delete_run(run_id)

    def restore_run(self, run_id: str) -> None:
        self.store.restore_run(run_id)

    def search_runs(
        self,
        experiment_ids: str | Sequence[str],
        filter_string: str = "",
        run_view_type: ViewType | int | str = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        ids = [experiment_ids] if isinstance(experiment_ids, str) else list(experiment_ids)
        return self.store.search_runs(
            [str(i) for i in ids],
            filter_string,
            ViewType.parse(run_view_type),
            max_results,
            order_by,
            page_token,
        )

    # ------------------------------------------------------------------ logging
    def _async_logger(self) -> AsyncLogger:
        if self._async is None:
            self._async = AsyncLogger(lambda run_id, m, p, t: self.store.log_batch(run_id, m, p, t))
            register_for_exit(self._async)
        return self._async

    def flush_async_logging(self) -> None:
        """Block until every asynchronous call so far is stored; raise its first error."""
        if self._async is not None:
            self._async.flush()

    def log_metric(
        self,
        run_id: str,
        key: str,
        value: float,
        timestamp: int | None = None,
        step: int | None = None,
        synchronous: bool = True,
        dataset_name: str | None = None,
        dataset_digest: str | None = None,
        model_id: str | None = None,
    ) -> RunOperations | None:
        """Log one metric point; with ``model_id`` it is also one of that logged model's
        metrics (MLflow 3), computed on the dataset ``dataset_name``/``dataset_digest``."""
        timestamp = now_ms() if timestamp is None else timestamp
        metric = Metric(
            key, value, timestamp, step or 0, None, model_id, dataset_name, dataset_digest
        )
        if synchronous:
            self.store.log_metric(run_id, metric)
            return None
        from mlflowx.utils.validation import validate_metric

        validate_metric(metric.key, metric.value, metric.timestamp, metric.step)
        return self._async_logger().submit(run_id, metrics=[metric])

    def log_param(self, run_id: str, key: str, value: Any, synchronous: bool = True) -> Any:
        if synchronous:
            self.store.log_param(run_id, Param(key, _param_str(value)))
        else:
            self._async_logger().submit(run_id, params=[Param(key, _param_str(value))])
        return value

    def set_tag(self, run_id: str, key: str, value: Any, synchronous: bool = True) -> None:
        if synchronous:
            self.store.set_tag(run_id, RunTag(key, str(value)))
        else:
            self._async_logger().submit(run_id, tags=[RunTag(key, str(value))])

    def delete_tag(self, run_id: str, key: str) -> None:
        self.store.delete_tag(run_id, key)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        synchronous: bool = True,
    ) -> RunOperations | None:
        if synchronous:
            self.store.log_batch(run_id, list(metrics), list(params), list(tags))
            return None
        return self._async_logger().submit(run_id, list(metrics), list(params), list(tags))

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] | None = None,
        models: Sequence[ModelInput] | None = None,
    ) -> None:
        """Record datasets and logged models (``ModelInput(model_id)``) as the run's inputs."""
        self.store.log_inputs(run_id, list(datasets or []), list(models or []))

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every logged point of ``key``, ordered by timestamp, step and value (MLflow's order).

        One read (one request to a tracking server), not pages: a SQL store reads the history
        along its primary key, and pages without an index in that order would each read it.
        """
        return list(self.store.get_metric_history(run_id, key))

    # ------------------------------------------------------------------ artifacts
    def _artifact_repo(self, run_id: str) -> ArtifactRepository:
        uri = self._artifact_uris.get(run_id)
        if uri is None:
            uri = self.get_run(run_id).info.artifact_uri or ""
            self._artifact_uris[run_id] = uri
        if not uri:
            raise InvalidParameter(f"Run {run_id} has no artifact location")
        return self._repo_for(uri)

    def _repo_for(self, uri: str) -> ArtifactRepository:
        """Proxied URIs (``mlflow-artifacts:``) go through the tracking server."""
        if uri.startswith("mlflow-artifacts:"):
            if not self.tracking_uri.startswith(("http://", "https://")):
                raise InvalidParameter(
                    f"The artifact URI {uri!r} is served by a tracking server, but the tracking "
                    f"URI {self.tracking_uri!r} is not an http(s):// server"
                )
            from mlflowx.store.artifacts.http import proxy_uri

            uri = proxy_uri(self.tracking_uri, uri)
        return get_artifact_repository(uri)

    # ------------------------------------------------------------------ logged models
    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        model_type: str | None = None,
    ) -> LoggedModel:
        """A new logged model; without ``name`` the store generates a unique one, as MLflow
        does."""
        return self.store.create_logged_model(
            str(experiment_id),
            name,
            source_run_id,
            model_type,
            {k: str(v) for k, v in (params or {}).items()},
            {k: str(v) for k, v in (tags or {}).items()},
        )

    def get_logged_model(self, model_id: str) -> LoggedModel:
        return self.store.get_logged_model(model_id)

    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus | str) -> LoggedModel:
        return self.store.finalize_logged_model(model_id, LoggedModelStatus.parse(status))

    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, Any]) -> None:
        self.store.set_logged_model_tags(model_id, {k: str(v) for k, v in tags.items()})

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        self.store.delete_logged_model_tag(model_id, key)

    def log_model_params(self, model_id: str, params: Mapping[str, Any]) -> None:
        self.store.log_logged_model_params(model_id, {k: str(v) for k, v in params.items()})

    def delete_logged_model(self, model_id: str) -> None:
        self.store.delete_logged_model(model_id)

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        return self.store.search_logged_models(
            [str(e) for e in experiment_ids], filter_string, max_results, order_by, page_token
        )

    def log_outputs(self, run_id: str, models: Sequence[ModelOutput]) -> None:
        self.store.log_outputs(run_id, list(models))

    def log_model_artifacts(self, model_id: str, local_dir: str | Path) -> None:
        """Upload a saved model directory to the logged model's artifact location."""
        model = self.get_logged_model(model_id)
        self._repo_for(model.artifact_location).log_artifacts(local_dir)

    def log_model_artifact(self, model_id: str, local_path: str | Path) -> None:
        """Upload one file to the logged model's artifact location."""
        model = self.get_logged_model(model_id)
        self._repo_for(model.artifact_location).log_artifact(local_path)

    def list_logged_model_artifacts(self, model_id: str, path: str | None = None) -> list[FileInfo]:
        model = self.get_logged_model(model_id)
        return self._repo_for(model.artifact_location).list_artifacts(path)

    def download_logged_model(self, model_id: str, dst_path: str | Path | None = None) -> str:
        model = self.get_logged_model(model_id)
        repo = self._repo_for(model.artifact_location)
        dst = Path(dst_path) if dst_path is not None else Path(tempfile.mkdtemp(prefix="mlflowx-"))
        return _download_all(repo, dst)

    # ------------------------------------------------------------------ artifacts (runs)
    def get_artifact_uri(self, run_id: str, artifact_path: str | None = None) -> str:
        self._artifact_repo(run_id)
        root = self._artifact_uris[run_id]
        return posixpath.join(root, artifact_path) if artifact_path else root

    def log_artifact(
        self, run_id: str, local_path: str | Path, artifact_path: str | None = None
    ) -> None:
        path = Path(local_path)
        repo = self._artifact_repo(run_id)
        if path.is_dir():
            repo.log_artifacts(path, posixpath.join(artifact_path or "", path.name))
        else:
            repo.log_artifact(path, artifact_path)

    def log_artifacts(
        self, run_id: str, local_dir: str | Path, artifact_path: str | None = None
    ) -> None:
        self._artifact_repo(run_id).log_artifacts(local_dir, artifact_path)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        self._artifact_repo(run_id).write_bytes(artifact_file, text.encode("utf-8"))

    def log_stream(self, run_id: str, stream: BinaryIO, artifact_file: str) -> None:
        """Write what a binary file-like object holds (read to its end) as ``artifact_file``."""
        data = stream.read()
        if not isinstance(data, bytes):
            raise InvalidParameter(
                f"log_stream takes a binary stream (e.g. io.BytesIO); {artifact_file!r} got "
                f"{type(data).__name__} from it"
            )
        self._artifact_repo(run_id).write_bytes(artifact_file, data)

    def log_dict(self, run_id: str, dictionary: Any, artifact_file: str) -> None:
        if artifact_file.endswith((".yaml", ".yml")):
            import yaml

            data = yaml.safe_dump(dictionary, sort_keys=False, default_flow_style=False)
        else:
            data = json.dumps(dictionary, indent=2)
        self.log_text(run_id, data, artifact_file)

    def log_figure(self, run_id: str, figure: Any, artifact_file: str) -> None:
        """Save a matplotlib or plotly figure as ``artifact_file`` (format from its extension)."""
        buffer = io.BytesIO()
        module = type(figure).__module__
        if module.startswith("matplotlib"):
            figure.savefig(buffer, format=Path(artifact_file).suffix.lstrip(".") or "png")
        elif module.startswith("plotly"):
            if artifact_file.endswith(".html"):
                buffer.write(figure.to_html().encode("utf-8"))
            else:
                buffer.write(figure.to_image(format=Path(artifact_file).suffix.lstrip(".")))
        else:
            raise InvalidParameter(
                f"log_figure takes a matplotlib or plotly figure, got {type(figure).__name__}"
            )
        self._artifact_repo(run_id).write_bytes(artifact_file, buffer.getvalue())

    def log_image(self, run_id: str, image: Any, artifact_file: str) -> None:
        """Save a numpy array (HxW, HxWx3, HxWx4; uint8 or floats in [0, 1]) or a PIL image."""
        from PIL import Image

        if not isinstance(image, Image.Image):
            import numpy as np

            array = np.asarray(image)
            if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
                raise InvalidParameter(
                    f"log_image takes an array of shape HxW, HxWx1, HxWx3 or HxWx4; got "
                    f"{array.shape}"
                )
            if array.dtype.kind == "f":
                if array.size and (np.nanmin(array) < 0 or np.nanmax(array) > 1):
                    raise InvalidParameter("Float images must have values in [0, 1]")
                array = (array * 255).round().astype(np.uint8)
            elif array.dtype != np.uint8:
                if array.size and (array.min() < 0 or array.max() > 255):
                    raise InvalidParameter("Integer images must have values in [0, 255]")
                array = array.astype(np.uint8)
            if array.ndim == 3 and array.shape[2] == 1:
                array = array[:, :, 0]
            image = Image.fromarray(array)
        buffer = io.BytesIO()
        image.save(
            buffer,
            format=(Path(artifact_file).suffix.lstrip(".") or "png").upper().replace("JPG", "JPEG"),
        )
        self._artifact_repo(run_id).write_bytes(artifact_file, buffer.getvalue())

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        return self._artifact_repo(run_id).list_artifacts(path)

    def download_artifacts(self, run_id: str, path: str, dst_path: str | Path | None = None) -> str:
        return self._artifact_repo(run_id).download_artifacts(path, dst_path)

    # ------------------------------------------------------------------ tables
    def log_table(self, run_id: str, data: Any, artifact_file: str) -> None:
        """Log a DataFrame (or a dict of columns) as a JSON or Parquet table artifact,
        appending to the table already at ``artifact_file`` (MLflow's format)."""
        from mlflowx.tracking.tables import log_table

        log_table(self, run_id, data, artifact_file)

    def load_table(
        self,
        experiment_id: str,
        artifact_file: str,
        run_ids: Sequence[str] | None = None,
        extra_columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """The table ``artifact_file`` of every run of the experiment that logged it (or of
        ``run_ids``) as one DataFrame; ``extra_columns`` adds run columns such as ``run_id``."""
        from mlflowx.tracking.tables import load_table

        return load_table(self, experiment_id, artifact_file, run_ids, extra_columns)


def _param_str(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _download_all(repo: ArtifactRepository, dst: Path) -> str:
    """Every file under a repository's root into ``dst`` (which is returned)."""
    dst.mkdir(parents=True, exist_ok=True)
    for info in repo.list_artifacts():
        repo.download_artifacts(info.path, dst)
    return str(dst)
