"""Fill an MLflow store (SQL, file or server) with the real ``mlflow`` package."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

_URI_VARS = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")


def populate(tracking_uri: str, work: Path) -> dict[str, Any]:
    """Two experiments (one with tags), runs with params, tags, metric histories, a dataset
    input, artifacts, a deleted run, a logged model and a registered model with two versions,
    tags, an alias and a stage. Returns what was written, by source id."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import mlflow.tracking._model_registry.utils as registry_utils
        import mlflow.tracking._tracking_service.utils as tracking_utils

        saved = (tracking_utils._tracking_uri, registry_utils._registry_uri)
        # mlflow.set_tracking_uri/set_registry_uri also export MLFLOW_TRACKING_URI and
        # MLFLOW_REGISTRY_URI, which mlflowx reads too: they must not outlive the fill.
        saved_env = {name: os.environ.get(name) for name in _URI_VARS}
        try:
            return _populate(tracking_uri, work)
        finally:
            tracking_utils._tracking_uri, registry_utils._registry_uri = saved
            for name, value in saved_env.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def _populate(tracking_uri: str, work: Path) -> dict[str, Any]:
    import mlflow
    from mlflow.entities import Metric, Param, RunTag

    # models:/ sources resolve through the process's tracking URI.
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    client = mlflow.MlflowClient(tracking_uri, registry_uri=tracking_uri)
    exp_a = client.create_experiment("exp-a", tags={"team": "blue", "k": "v"})
    exp_b = client.create_experiment("exp-b")
    runs: list[str] = []
    for i in range(3):
        run = client.create_run(exp_a, run_name=f"run-{i}", tags={"i": str(i)})
        rid = run.info.run_id
        client.log_batch(
            rid,
            metrics=[Metric("loss", 1.0 / (s + 1), 1_700_000_000_000 + s, s) for s in range(7)]
            + [Metric("acc", 0.5 + i / 10, 1_700_000_000_100, 0)],
            params=[Param("lr", str(0.1 * (i + 1))), Param("depth", str(i))],
            tags=[RunTag("note", f"n{i}")],
        )
        folder = work / f"art-{i}"
        (folder / "sub").mkdir(parents=True)
        (folder / "a.txt").write_text(f"hello {i}")
        (folder / "sub" / "b.bin").write_bytes(bytes(range(256)) * (i + 1))
        client.log_artifacts(rid, str(folder))
        client.set_terminated(rid, "FINISHED" if i != 2 else "FAILED", end_time=1_700_000_100_000)
        runs.append(rid)
    import pandas as pd

    ds = mlflow.data.from_pandas(pd.DataFrame({"x": [1, 2]}), name="train-ds")
    client.log_inputs(
        runs[0],
        [
            mlflow.entities.DatasetInput(
                ds._to_mlflow_entity(),
                [mlflow.entities.InputTag("mlflow.data.context", "train")],
            )
        ],
    )
    deleted = client.create_run(exp_b, run_name="gone").info.run_id
    client.log_metric(deleted, "m", 3.0, step=1)
    client.set_terminated(deleted)
    client.delete_run(deleted)
    kept_b = client.create_run(exp_b, run_name="b-run", start_time=1_600_000_000_000).info.run_id
    client.set_terminated(kept_b, "KILLED", end_time=1_600_000_001_000)

    model = client.create_logged_model(
        exp_a, name="clf", source_run_id=runs[0], params={"alpha": "1"}, tags={"t": "x"}
    )
    mdir = work / "model"
    mdir.mkdir()
    (mdir / "MLmodel").write_text("flavors: {}\n")
    (mdir / "weights.bin").write_bytes(b"\x00\x01weights")
    client.log_model_artifacts(model.model_id, str(mdir))
    client.finalize_logged_model(model.model_id, "READY")
    # The model's metrics (one on a dataset) and a run that consumed the model.
    client.log_metric(runs[0], "val_acc", 0.9, 1_700_000_200_000, 2, model_id=model.model_id)
    client.log_metric(
        runs[1],
        "val_loss",
        0.25,
        1_700_000_300_000,
        3,
        model_id=model.model_id,
        dataset_name="train-ds",
        dataset_digest=ds.digest,
    )
    client.log_inputs(runs[2], models=[mlflow.entities.LoggedModelInput(model.model_id)])

    client.create_registered_model("reg", tags={"owner": "me"}, description="a model")
    v1 = client.create_model_version(
        "reg", f"runs:/{runs[0]}/sub", run_id=runs[0], tags={"v": "1"}, description="first"
    )
    v2 = client.create_model_version(
        "reg", f"models:/{model.model_id}", run_id=runs[0], model_id=model.model_id
    )
    client.set_registered_model_alias("reg", "champion", v2.version)
    client.transition_model_version_stage("reg", v1.version, "Staging")
    return {
        "experiments": {"exp-a": exp_a, "exp-b": exp_b},
        "runs": runs,
        "deleted_run": deleted,
        "run_b": kept_b,
        "model_id": model.model_id,
        "dataset_digest": ds.digest,
    }
