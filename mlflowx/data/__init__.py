"""Dataset descriptions for ``log_input``: name, content digest, source, schema and profile.

Mirrors ``mlflow.data.from_pandas`` / ``from_numpy``. pandas and numpy are imported on use.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mlflowx.entities import Dataset as DatasetEntity
from mlflowx.exceptions import InvalidParameter

__all__ = ["Dataset", "from_numpy", "from_pandas", "source_of"]

_MAX_ROWS_HASHED = 10_000

_PANDAS_KIND = {"f": "double", "i": "long", "u": "long", "b": "boolean", "M": "datetime"}


@dataclass(frozen=True, slots=True)
class Dataset:
    """A dataset a run used. ``to_entity()`` gives what the tracking store records."""

    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None
    profile: str | None
    targets: str | None = None

    def to_entity(self) -> DatasetEntity:
        return DatasetEntity(
            self.name, self.digest, self.source_type, self.source, self.schema, self.profile
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "digest": self.digest,
            "source_type": self.source_type,
            "source": self.source,
            "schema": self.schema,
            "profile": self.profile,
        }


def source_of(source: str | Path | None) -> tuple[str, str]:
    """(source_type, source JSON) in MLflow's form for a path, URL or URI; code otherwise."""
    if source is None:
        script = sys.argv[0] if sys.argv and sys.argv[0] else "<console>"
        return "code", json.dumps({"tags": {"mlflow.source.name": script}})
    text = str(source)
    scheme = urlsplit(text).scheme
    if scheme in ("http", "https"):
        return "http", json.dumps({"url": text})
    if len(scheme) > 1 and scheme != "file":
        return scheme, json.dumps({"uri": text})
    return "local", json.dumps({"uri": str(Path(text.removeprefix("file://")).resolve())})


def _digest(parts: list[bytes]) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part)
    return h.hexdigest()[:8]


def from_pandas(
    df: Any,
    source: str | Path | None = None,
    targets: str | None = None,
    name: str | None = None,
    digest: str | None = None,
) -> Dataset:
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise InvalidParameter(f"from_pandas takes a pandas DataFrame, got {type(df).__name__}")
    if targets is not None and targets not in df.columns:
        raise InvalidParameter(f"targets column {targets!r} is not in the DataFrame")
    head = df.head(_MAX_ROWS_HASHED)
    hashed = pd.util.hash_pandas_object(head, index=False).to_numpy().tobytes()
    columns = json.dumps([[str(c), str(t)] for c, t in df.dtypes.items()]).encode()
    colspec = [
        {"type": _PANDAS_KIND.get(t.kind, "string"), "name": str(c), "required": True}
        for c, t in df.dtypes.items()
    ]
    source_type, source_json = source_of(source)
    return Dataset(
        name=name or "dataset",
        digest=digest or _digest([columns, hashed, str(len(df)).encode()]),
        source_type=source_type,
        source=source_json,
        schema=json.dumps({"mlflow_colspec": colspec}),
        profile=json.dumps({"num_rows": len(df), "num_elements": int(df.size)}),
        targets=targets,
    )


def from_numpy(
    features: Any,
    source: str | Path | None = None,
    targets: Any = None,
    name: str | None = None,
    digest: str | None = None,
) -> Dataset:
    import numpy as np

    array = np.asarray(features)
    parts = [
        str(array.shape).encode(),
        str(array.dtype).encode(),
        np.ascontiguousarray(array[:_MAX_ROWS_HASHED]).tobytes(),
    ]
    schema: dict[str, Any] = {
        "mlflow_tensorspec": {
            "features": json.dumps(
                [
                    {
                        "type": "tensor",
                        "tensor-spec": {"dtype": str(array.dtype), "shape": [-1, *array.shape[1:]]},
                    }
                ]
            ),
        }
    }
    profile: dict[str, Any] = {
        "features_shape": list(array.shape),
        "features_size": int(array.size),
        "features_nbytes": int(array.nbytes),
    }
    if targets is not None:
        t = np.asarray(targets)
        parts.append(np.ascontiguousarray(t[:_MAX_ROWS_HASHED]).tobytes())
        schema["mlflow_tensorspec"]["targets"] = json.dumps(
            [
                {
                    "type": "tensor",
                    "tensor-spec": {"dtype": str(t.dtype), "shape": [-1, *t.shape[1:]]},
                }
            ]
        )
        profile.update({"targets_shape": list(t.shape), "targets_size": int(t.size)})
    source_type, source_json = source_of(source)
    return Dataset(
        name=name or "dataset",
        digest=digest or _digest(parts),
        source_type=source_type,
        source=source_json,
        schema=json.dumps(schema),
        profile=json.dumps(profile),
    )
