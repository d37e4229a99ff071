"""How flow and task parameters and results become params, metrics, tags and models.

Parameters (:func:`flatten_params`):
- scalars (str, int, float, bool, None, enums, paths, dates, UUIDs, decimals) become one param each;
- pydantic models, dataclasses, named tuples and mappings are flattened into ``a.b`` keys;
- lists, tuples and sets are JSON-encoded (``[1, 2, 3]``), items that are models or mappings too;
- anything else (arrays, data frames, estimators, bytes, open files...) is skipped: it has no
  faithful short text form;
- a value longer than MLflow's 6000-character limit is cut to the limit, ends with
  :data:`TRUNCATED_MARK`, and its key is listed in the ``mlflowx.params.truncated`` tag.

Results (:func:`flatten_results`), under the key ``result`` when the return value is not itself a
mapping, model or dataclass:
- numbers (not booleans) become metrics;
- strings and booleans become tags (strings cut at 8000 characters);
- mappings, pydantic models, dataclasses, named tuples, and tuples/lists of up to
  :data:`MAX_SEQUENCE_ITEMS` items are flattened (``a.b``, ``scores.0``);
- scikit-learn estimators become logged models named after their key; ``ModelInfo`` values
  (what ``log_model`` returns) are linked to the run and their URI kept as a tag;
- ``None`` and everything else is skipped.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import json
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from mlflowx.utils.validation import (
    MAX_ENTITY_KEY_LENGTH,
    MAX_PARAM_VAL_LENGTH,
    MAX_TAG_VAL_LENGTH,
)

__all__ = [
    "MAX_SEQUENCE_ITEMS",
    "TRUNCATED_MARK",
    "TRUNCATED_TAG",
    "Results",
    "flatten_params",
    "flatten_results",
]

TRUNCATED_MARK = "...[truncated]"
TRUNCATED_TAG = "mlflowx.params.truncated"
MAX_SEQUENCE_ITEMS = 100
_MAX_DEPTH = 8
_BAD_KEY_CHARS = re.compile(r"[^/\w.\- :]")
_SCALARS = (str, int, float, bool, type(None))


def _key(prefix: str, name: object) -> str:
    part = _BAD_KEY_CHARS.sub("_", str(name))
    key = f"{prefix}.{part}" if prefix else part
    return key[:MAX_ENTITY_KEY_LENGTH]


def _scalar_text(value: Any) -> str | None:
    """The text of a scalar parameter, or None when ``value`` is not a scalar."""
    if isinstance(value, _SCALARS):
        return value if isinstance(value, str) else str(value)
    if isinstance(value, enum.Enum):
        inner = value.value
        return inner if isinstance(inner, str) else str(inner)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, PurePath | uuid.UUID | decimal.Decimal | datetime.timedelta):
        return str(value)
    if _is_numpy_scalar(value):
        return str(value.item())
    return None


def _is_numpy_scalar(value: Any) -> bool:
    return (
        type(value).__module__ == "numpy"
        and hasattr(value, "item")
        and not hasattr(value, "__len__")
    )


def _fields(value: Any) -> Iterator[tuple[str, Any]] | None:
    """The named fields of a structured value (pydantic model, dataclass, named tuple, mapping)."""
    if isinstance(value, Mapping):
        return ((str(k), v) for k, v in value.items())
    model_fields = getattr(type(value), "model_fields", None)
    if isinstance(model_fields, dict) and hasattr(value, "model_dump"):
        return ((name, getattr(value, name, None)) for name in model_fields)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return ((f.name, getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return zip(value._fields, value, strict=True)
    return None


def _jsonable(value: Any) -> Any:
    from pydantic_core import to_jsonable_python

    return to_jsonable_python(value)


def flatten_params(values: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    """Params from named values (see the module docstring); returns (params, truncated keys)."""
    out: dict[str, str] = {}
    truncated: list[str] = []

    def visit(prefix: str, value: Any, depth: int) -> None:
        text = _scalar_text(value)
        if text is None:
            nested = _fields(value) if depth < _MAX_DEPTH else None
            if nested is not None:
                for name, item in nested:
                    visit(_key(prefix, name), item, depth + 1)
                return
            if isinstance(value, list | tuple | set | frozenset):
                try:
                    items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
                    text = json.dumps(_jsonable(items))
                except Exception:  # an item with no JSON form: skip the whole value
                    return
            else:
                return
        if len(text) > MAX_PARAM_VAL_LENGTH:
            text = text[: MAX_PARAM_VAL_LENGTH - len(TRUNCATED_MARK)] + TRUNCATED_MARK
            truncated.append(prefix)
        out[prefix] = text

    for name, value in values.items():
        visit(_key("", name), value, 0)
    return out, truncated


@dataclass
class Results:
    """What a return value becomes: metrics, tags, models to log and logged models to link."""

    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    models: dict[str, Any] = field(default_factory=dict)
    model_infos: dict[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.metrics or self.tags or self.models or self.model_infos)


def _is_estimator(value: Any) -> bool:
    module = type(value).__module__
    return (
        (module == "sklearn" or module.startswith("sklearn."))
        and hasattr(value, "fit")
        and hasattr(value, "get_params")
    )


def _is_model_info(value: Any) -> bool:
    return type(value).__name__ == "ModelInfo" and hasattr(value, "model_uri")


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float | decimal.Decimal):
        return True
    return _is_numpy_scalar(value) and type(value).__name__ != "bool_"


def flatten_results(value: Any) -> Results:
    """Metrics, tags and models from a return value (see the module docstring)."""
    results = Results()

    def visit(prefix: str, item: Any, depth: int) -> None:
        key = prefix or "result"
        if item is None:
            return
        if _is_number(item):
            results.metrics[key] = float(item.item() if _is_numpy_scalar(item) else item)
            return
        if isinstance(item, bool | str | enum.Enum):
            text = str(item.value if isinstance(item, enum.Enum) else item)
            if not key.startswith("mlflow"):
                results.tags[key] = text[:MAX_TAG_VAL_LENGTH]
            return
        if _is_estimator(item):
            results.models[prefix or "model"] = item
            return
        if _is_model_info(item):
            results.model_infos[prefix or "model"] = item
            return
        if depth >= _MAX_DEPTH:
            return
        nested = _fields(item)
        if nested is None and isinstance(item, list | tuple) and len(item) <= MAX_SEQUENCE_ITEMS:
            nested = ((str(i), v) for i, v in enumerate(item))
            if not prefix:
                prefix = "result"
        if nested is not None:
            for name, sub in nested:
                visit(_key(prefix, name), sub, depth + 1)

    visit("", value, 0)
    return results
