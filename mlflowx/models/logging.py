"""``log_model``: save a model and log it as an MLflow 3 logged model of the active run."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlflowx.entities import LoggedModelStatus, ModelOutput
from mlflowx.models.mlmodel import Model
from mlflowx.models.save import save_model
from mlflowx.models.signature import ModelSignature
from mlflowx.tracking import _context

__all__ = ["ModelInfo", "log_model"]


@dataclass(frozen=True)
class ModelInfo:
    """What ``log_model`` and ``get_model_info`` return (MLflow's ``ModelInfo``)."""

    model_id: str
    model_uri: str
    run_id: str | None
    name: str
    artifact_path: str
    flavors: dict[str, Any]
    signature: ModelSignature | None
    utc_time_created: str
    model_uuid: str = ""
    saved_input_example_info: dict[str, Any] | None = None
    mlflow_version: str | None = None
    metadata: dict[str, Any] | None = None
    registered_model_version: int | None = None

    @classmethod
    def of(
        cls,
        model: Model,
        model_uri: str,
        *,
        name: str | None = None,
        registered_model_version: int | None = None,
    ) -> ModelInfo:
        """The info of the model whose MLmodel file is ``model``."""
        artifact_path = model.artifact_path or ""
        signature = ModelSignature.from_dict(model.signature) if model.signature else None
        return cls(
            model_id=model.model_id or "",
            model_uri=model_uri,
            run_id=model.run_id,
            name=name or artifact_path.rstrip("/").rsplit("/", 1)[-1],
            artifact_path=artifact_path,
            flavors=model.flavors,
            signature=signature,
            utc_time_created=model.utc_time_created,
            model_uuid=model.model_uuid,
            saved_input_example_info=model.saved_input_example_info,
            mlflow_version=model.mlflow_version,
            metadata=model.metadata,
            registered_model_version=registered_model_version,
        )


def log_model(
    flavor: str,
    model: Any,
    name: str | None = None,
    *,
    artifact_path: str | None = None,
    registered_model_name: str | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    **save_options: Any,
) -> ModelInfo:
    """Save ``model`` and log it: a logged model ``m-<id>`` linked to the active run (if any),
    its files under the experiment's artifact location, registered when a name is given."""
    from mlflowx.tracking import fluent

    name = name or artifact_path or "model"
    client = fluent._client()
    run = fluent.active_run()
    run_id = run.info.run_id if run is not None else None
    experiment_id = run.info.experiment_id if run is not None else fluent._experiment_id()
    run_params = client.get_run(run_id).data.params if run_id else {}
    logged = client.create_logged_model(
        experiment_id,
        name,
        source_run_id=run_id,
        params={**(params or {}), **run_params},
        tags={"mlflow.modelFlavor": flavor, **(tags or {})},
        model_type=model_type,
    )
    _context.last_logged_model_id.set(logged.model_id)
    try:
        with tempfile.TemporaryDirectory(prefix="mlflowx-log-") as tmp:
            local = Path(tmp) / "model"
            info = Model(
                run_id=run_id, model_id=logged.model_id, artifact_path=logged.artifact_location
            )
            info.model_uuid = logged.model_id
            saved = save_model(flavor, model, local, mlmodel=info, **save_options)
            if run_id is not None:
                client.log_outputs(run_id, [ModelOutput(logged.model_id, step)])
            client.log_model_artifacts(logged.model_id, local)
    except BaseException:
        client.finalize_logged_model(logged.model_id, LoggedModelStatus.UPLOAD_FAILED)
        raise
    client.finalize_logged_model(logged.model_id, LoggedModelStatus.READY)
    version = None
    if registered_model_name:
        from mlflowx.tracking.registration import register_model

        version = int(register_model(f"models:/{logged.model_id}", registered_model_name).version)
    return ModelInfo.of(
        saved,
        f"models:/{logged.model_id}",
        name=name,
        registered_model_version=version,
    )
