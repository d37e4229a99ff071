"""Run inputs (datasets and logged models) in the SQL tracking store, and the datasets search: a
mixin of ``SqlTrackingStore``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from mlflowx.entities import DatasetInput, DatasetSummary, ModelInput
from mlflowx.exceptions import InvalidParameter
from mlflowx.store.tracking.base import SEARCH_DATASETS_MAX_RESULTS, check_search_datasets
from mlflowx.store.tracking.sql_runs import RunsMixin
from mlflowx.utils import validation as v

__all__ = ["DATASET_CONTEXT_TAG", "InputsMixin"]

DATASET_CONTEXT_TAG = "mlflow.data.context"


def _model_input_id(model: ModelInput) -> str:
    model_id = model.model_id
    if not isinstance(model_id, str) or not 0 < len(model_id) <= 40:
        raise InvalidParameter(
            f"Invalid model input {model_id!r}: expected the id of a logged model "
            "(a string of 1 to 40 characters, e.g. 'm-...')"
        )
    return model_id


class InputsMixin(RunsMixin):
    """``log_inputs`` and ``search_datasets``."""

    def log_inputs(
        self, run_id: str, datasets: Sequence[DatasetInput], models: Sequence[ModelInput] = ()
    ) -> None:
        run_id = v.validate_run_id(run_id)
        model_ids = list(dict.fromkeys(_model_input_id(m) for m in models))
        for di in datasets:
            d = di.dataset
            v.validate_dataset(d.name, d.digest, d.source_type, d.source, d.schema, d.profile)
            for tag in di.tags:
                v.validate_input_tag(tag.key, tag.value)
        with self.db.write() as conn:
            eid = self._require_active_run(conn, run_id)
            if model_ids:
                conn.executemany(
                    "INSERT INTO model_inputs (run_uuid, model_id) VALUES (:r, :m) "
                    "ON CONFLICT (run_uuid, model_id) DO NOTHING",
                    [{"r": run_id, "m": m} for m in model_ids],
                )
            for di in datasets:
                d = di.dataset
                found = conn.execute(
                    "SELECT dataset_uuid FROM datasets WHERE experiment_id = :e AND name = :n "
                    "AND digest = :d",
                    {"e": eid, "n": d.name, "d": d.digest},
                )
                if found:
                    dataset_uuid = found[0][0]
                else:
                    dataset_uuid = uuid.uuid4().hex
                    conn.execute(
                        "INSERT INTO datasets (dataset_uuid, experiment_id, name, digest, "
                        "dataset_source_type, dataset_source, dataset_schema, dataset_profile) "
                        "VALUES (:u, :e, :n, :d, :st, :s, :sc, :p)",
                        {
                            "u": dataset_uuid,
                            "e": eid,
                            "n": d.name,
                            "d": d.digest,
                            "st": d.source_type,
                            "s": d.source,
                            "sc": d.schema,
                            "p": d.profile,
                        },
                    )
                linked = conn.execute(
                    "SELECT input_uuid FROM inputs WHERE run_uuid = :r AND dataset_uuid = :u",
                    {"r": run_id, "u": dataset_uuid},
                )
                if linked:
                    continue  # as MLflow: the first logging of a dataset keeps its tags
                input_uuid = uuid.uuid4().hex
                conn.execute(
                    "INSERT INTO inputs (input_uuid, run_uuid, dataset_uuid) VALUES (:i, :r, :u)",
                    {"i": input_uuid, "r": run_id, "u": dataset_uuid},
                )
                if di.tags:
                    conn.executemany(
                        "INSERT INTO input_tags (input_uuid, key, value) VALUES (:i, :k, :v) "
                        "ON CONFLICT (input_uuid, key) DO UPDATE SET value = excluded.value",
                        [{"i": input_uuid, "k": t.key, "v": t.value} for t in di.tags],
                    )

    def search_datasets(self, experiment_ids: Sequence[str]) -> list[DatasetSummary]:
        eids = [self._experiment_int(e) for e in check_search_datasets(experiment_ids)]
        marks = ", ".join(f":e{i}" for i in range(len(eids)))
        # A left join: an input logged without a context still lists its dataset.
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT DISTINCT d.experiment_id, d.name, d.digest, t.value FROM datasets d "
                "JOIN inputs i ON i.dataset_uuid = d.dataset_uuid "
                "LEFT JOIN input_tags t ON t.input_uuid = i.input_uuid AND t.key = :ctx "
                f"WHERE d.experiment_id IN ({marks}) "
                "ORDER BY d.experiment_id, d.name, d.digest, t.value LIMIT :limit",
                {
                    "ctx": DATASET_CONTEXT_TAG,
                    "limit": SEARCH_DATASETS_MAX_RESULTS,
                    **{f"e{i}": e for i, e in enumerate(eids)},
                },
            )
        return [DatasetSummary(str(e), name, digest, ctx) for e, name, digest, ctx in rows]
