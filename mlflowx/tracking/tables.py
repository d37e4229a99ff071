"""Tables as run artifacts: MLflow's ``log_table`` / ``load_table`` file format and tag.

A table is a pandas DataFrame written as JSON (``orient="split"``, no index, ISO dates) or
Parquet; logging to an existing file appends rows. The run's ``mlflow.loggedArtifacts`` tag
lists the tables, so ``load_table`` finds them with a run search, as MLflow does.
"""

from __future__ import annotations

import json
import posixpath
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlflowx.exceptions import InvalidParameter, NotFound

if TYPE_CHECKING:
    import pandas as pd

    from mlflowx.entities import Run
    from mlflowx.tracking.client import MlflowxClient

__all__ = ["LOGGED_ARTIFACTS_TAG", "load_table", "log_table", "runs_to_pandas"]

LOGGED_ARTIFACTS_TAG = "mlflow.loggedArtifacts"
_SUFFIXES = (".json", ".parquet")


def _check_file(artifact_file: str) -> str:
    if not artifact_file.endswith(_SUFFIXES):
        raise InvalidParameter(
            f"Invalid artifact file path '{artifact_file}'. Please ensure the file you are "
            "trying to log as a table has a file name with either '.json' or '.parquet' extension."
        )
    norm = posixpath.normpath(artifact_file)
    if norm.startswith(("/", "..")) or "\\" in artifact_file:
        raise InvalidParameter(
            f"Invalid artifact file path '{artifact_file}': use a relative posix path inside "
            "the run's artifacts (e.g. 'dir/table.json')"
        )
    return norm


def _frame(data: Any) -> pd.DataFrame:
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if not isinstance(data, Mapping):
        raise InvalidParameter(
            f"data must be a pandas.DataFrame or a dictionary, got {type(data).__name__}"
        )
    try:
        return pd.DataFrame(dict(data))
    except ValueError:  # all scalars, e.g. {"inputs": "What is MLflow?"}: one row
        return pd.DataFrame([dict(data)])


def _read(path: str) -> pd.DataFrame:
    import pandas as pd

    if path.endswith(".json"):
        return pd.read_json(path, orient="split")
    return pd.read_parquet(path)


def _existing(client: MlflowxClient, run_id: str, artifact_file: str) -> pd.DataFrame | None:
    folder = posixpath.dirname(artifact_file) or None
    listed = {f.path for f in client.list_artifacts(run_id, folder) if not f.is_dir}
    if artifact_file not in listed:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        return _read(client.download_artifacts(run_id, artifact_file, tmp))


def log_table(client: MlflowxClient, run_id: str, data: Any, artifact_file: str) -> None:
    """Write ``data`` (a DataFrame or a dict of columns) to the run's ``artifact_file``,
    appending to the table already there, and list it in the run's table tag."""
    import pandas as pd

    artifact_file = _check_file(artifact_file)
    frame = _frame(data)
    for column in frame.columns:
        if frame[column].map(lambda v: hasattr(v, "save") and hasattr(v, "resize")).any():
            raise InvalidParameter(
                f"Column {column!r} of the table {artifact_file!r} holds images; mlflowx tables "
                "hold JSON-serialisable values only: log images with log_image"
            )
    previous = _existing(client, run_id, artifact_file)
    if previous is not None:
        frame = pd.concat([previous, frame], ignore_index=True)
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp, posixpath.basename(artifact_file))
        try:
            if artifact_file.endswith(".json"):
                frame.to_json(local, orient="split", index=False, date_format="iso")
            else:
                frame.to_parquet(local, index=False)
        except (TypeError, ValueError, OverflowError) as exc:
            raise InvalidParameter(
                f"Failed to save the table {artifact_file!r}: its data is not serialisable ({exc})"
            ) from exc
        client.log_artifact(run_id, local, posixpath.dirname(artifact_file) or None)
    tag = client.get_run(run_id).data.tags.get(LOGGED_ARTIFACTS_TAG, "[]")
    listed = json.loads(tag)
    entry = {"path": artifact_file, "type": "table"}
    if entry not in listed:
        client.set_tag(run_id, LOGGED_ARTIFACTS_TAG, json.dumps([*listed, entry]))


def load_table(
    client: MlflowxClient,
    experiment_id: str,
    artifact_file: str,
    run_ids: Sequence[str] | None = None,
    extra_columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The rows of ``artifact_file`` from every run of the experiment that logged it (or from
    ``run_ids``), concatenated; ``extra_columns`` adds run columns (e.g. ``run_id``)."""
    import pandas as pd

    artifact_file = _check_file(artifact_file)
    marker = f'"path"%:%"{artifact_file}",%"type"%:%"table"'
    filter_string = f"tags.`{LOGGED_ARTIFACTS_TAG}` LIKE '%{marker}%'"
    if run_ids:
        filter_string += f" and attributes.run_id IN ({','.join(map(repr, run_ids))})"
    found: list[Run] = []
    token: str | None = None
    while True:
        page = client.search_runs([str(experiment_id)], filter_string, page_token=token)
        found += page
        token = page.token
        if not token:
            break
    runs = runs_to_pandas(found)
    frames = []
    for _, run in runs.iterrows():
        table = _existing(client, run["run_id"], artifact_file)
        if table is None:
            raise NotFound(f"Artifact {artifact_file} not found for run {run['run_id']}.")
        for column in extra_columns or ():
            table[f"{column}_" if column in table else column] = run[column]
        frames.append(table)
    if not frames:
        raise NotFound(
            f"No runs found with the corresponding table artifact {artifact_file!r} in "
            f"experiment {experiment_id}."
        )
    return pd.concat(frames, ignore_index=True)


def runs_to_pandas(runs: Sequence[Run]) -> pd.DataFrame:
    """MLflow's DataFrame layout: run attributes, then metrics.*, params.*, tags.* columns."""
    import pandas as pd

    info = {
        "run_id": [r.info.run_id for r in runs],
        "experiment_id": [r.info.experiment_id for r in runs],
        "status": [str(r.info.status) for r in runs],
        "artifact_uri": [r.info.artifact_uri for r in runs],
        "start_time": pd.to_datetime([r.info.start_time for r in runs], unit="ms", utc=True),
        "end_time": pd.to_datetime([r.info.end_time for r in runs], unit="ms", utc=True),
    }
    columns: dict[str, list[Any]] = {}
    for prefix, attr in (("metrics", "metrics"), ("params", "params"), ("tags", "tags")):
        keys = sorted({k for r in runs for k in getattr(r.data, attr)})
        missing = float("nan") if prefix == "metrics" else None
        for key in keys:
            columns[f"{prefix}.{key}"] = [getattr(r.data, attr).get(key, missing) for r in runs]
    return pd.DataFrame({**info, **columns})
