"""The MLmodel file: a model directory's description, in MLflow's YAML layout."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlflowx.exceptions import InvalidParameter, NotFound

__all__ = ["MLMODEL_FILE", "Model"]

MLMODEL_FILE = "MLmodel"
# Keys this class maps to attributes; anything else in a file is kept in ``extra`` and written back.
_KNOWN = (
    "artifact_path",
    "flavors",
    "model_uuid",
    "model_id",
    "run_id",
    "utc_time_created",
    "signature",
    "saved_input_example_info",
    "model_size_bytes",
    "metadata",
    "mlflow_version",
    "mlflowx_version",
)


@dataclass
class Model:
    """An MLmodel file. ``signature`` is kept as MLflow's dict of JSON strings."""

    flavors: dict[str, dict[str, Any]] = field(default_factory=dict)
    artifact_path: str | None = None
    run_id: str | None = None
    model_uuid: str = field(default_factory=lambda: uuid.uuid4().hex)
    model_id: str | None = None
    utc_time_created: str = field(
        default_factory=lambda: str(dt.datetime.now(dt.UTC).replace(tzinfo=None))
    )
    signature: dict[str, Any] | None = None
    saved_input_example_info: dict[str, Any] | None = None
    model_size_bytes: int | None = None
    metadata: dict[str, Any] | None = None
    mlflow_version: str | None = None
    mlflowx_version: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def add_flavor(self, name: str, **params: Any) -> Model:
        self.flavors[name] = params
        return self

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in _KNOWN:
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        out.update(self.extra)
        return dict(sorted(out.items()))

    def to_yaml(self) -> str:
        import yaml

        text: str = yaml.safe_dump(self.to_dict(), default_flow_style=False, sort_keys=True)
        return text

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_yaml())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Model:
        if not isinstance(data, dict) or not isinstance(data.get("flavors", {}), dict):
            raise InvalidParameter("Invalid MLmodel file: expected a mapping with 'flavors'")
        known = {k: data[k] for k in _KNOWN if k in data}
        extra = {k: v for k, v in data.items() if k not in _KNOWN}
        known.setdefault("flavors", {})
        if known.get("model_uuid") is None:
            known["model_uuid"] = uuid.uuid4().hex
        if "utc_time_created" in known:
            known["utc_time_created"] = str(known["utc_time_created"])
        return cls(**known, extra=extra)

    @classmethod
    def load(cls, path: str | Path) -> Model:
        """Read ``path`` (an MLmodel file or the model directory holding one)."""
        import yaml

        file = Path(path)
        if file.is_dir():
            file = file / MLMODEL_FILE
        if not file.is_file():
            raise NotFound(f"No MLmodel file at {file}")
        try:
            data = yaml.safe_load(file.read_text())
        except yaml.YAMLError as exc:
            raise InvalidParameter(f"Invalid MLmodel file {file}: {exc}") from None
        return cls.from_dict(data)

    def flavor(self, name: str) -> dict[str, Any]:
        if name not in self.flavors:
            raise InvalidParameter(
                f"The model has no {name!r} flavor; it has: {', '.join(sorted(self.flavors))}"
            )
        return self.flavors[name]
