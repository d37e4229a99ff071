"""MLflow's input limits, checked once and reported with the offending field named."""

from __future__ import annotations

import json
import math
import numbers
import posixpath
import re
from collections.abc import Sequence
from typing import Any

from mlflowx.exceptions import InvalidParameter

MAX_ENTITY_KEY_LENGTH = 250
MAX_PARAM_VAL_LENGTH = 6000
MAX_TAG_VAL_LENGTH = 8000
MAX_EXPERIMENT_NAME_LENGTH = 500
MAX_EXPERIMENT_TAG_KEY_LENGTH = 250
MAX_EXPERIMENT_TAG_VAL_LENGTH = 20000
MAX_RUN_NAME_LENGTH = 250
MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_METRICS_PER_BATCH = 1000
MAX_ENTITIES_PER_BATCH = 1000
MAX_DATASET_NAME_SIZE = 500
MAX_DATASET_DIGEST_SIZE = 36
MAX_DATASET_SCHEMA_SIZE = 1_048_575
MAX_DATASET_SOURCE_SIZE = 65_535
MAX_DATASET_PROFILE_SIZE = 16_777_215
MAX_INPUT_TAG_KEY_SIZE = 255
MAX_INPUT_TAG_VALUE_SIZE = 500
MAX_RESULTS_SEARCH_RUNS = 50_000
MAX_RESULTS_SEARCH_EXPERIMENTS = 50_000

_KEY_RE = re.compile(r"^[/\w.\- :]*$")
_RUN_ID_RE = re.compile(r"^[a-zA-Z0-9][\w\-]{0,255}$")
_EXPERIMENT_ID_RE = re.compile(r"^[a-zA-Z0-9][\w\-]{0,63}$")
_BAD_KEY_MESSAGE = (
    "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), "
    "spaces ( ), colon(:) and slashes (/)."
)
_MISSING_KEY_NAME_MESSAGE = "A key name must be provided."

# The messages below are MLflow's (``mlflow/utils/validation.py``), word for word and quotes
# included: tools match them. ``path`` is the JSON path of the field in the request, as
# MLflow names it: ``key`` for ``log-parameter``, ``params[3].key`` inside a batch.


def _json(value: Any) -> str:
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):  # numpy scalars, objects: shown as their text
        return json.dumps(str(value))


def invalid_value(path: str, value: Any, message: str | None = None) -> str:
    """MLflow's message for a field with a wrong value."""
    if message:
        return f"Invalid value {_json(value)} for parameter '{path}' supplied: {message}"
    return f"Invalid value {_json(value)} for parameter '{path}' supplied."


def missing_value(path: str) -> str:
    return f"Missing value for required parameter '{path}'."


def exceeds_maximum_length(path: str, limit: int) -> str:
    return f"'{path}' exceeds the maximum length of {limit} characters"


def json_path(path: str, field: str) -> str:
    """``field`` under ``path``: ``params[3]`` + ``key`` is ``params[3].key``."""
    return f"{path}.{field}" if path else field


def _path_not_unique(name: str) -> bool:
    norm = posixpath.normpath(name)
    return norm != name or norm == "." or norm.startswith("..") or norm.startswith("/")


def _bad_path_message(name: str) -> str:
    return (
        "Names may be treated as files in certain cases, and must not resolve to other names"
        f" when treated as such. This name would resolve to {posixpath.normpath(name)!r}"
    )


def _missing_key(kind: str, path: str) -> str:
    if kind == "Metric":
        return invalid_value(path, None, f"Metric name cannot be None. {_MISSING_KEY_NAME_MESSAGE}")
    if kind == "Param":
        return invalid_value(path, "", _MISSING_KEY_NAME_MESSAGE)
    return missing_value(path)


def validate_key(
    kind: str,
    key: Any,
    *,
    max_length: int = MAX_ENTITY_KEY_LENGTH,
    path: str = "key",
    length_name: str | None = None,
) -> str:
    """Check a metric, param or tag name as MLflow does (charset, path-uniqueness, length).

    ``kind`` (``Metric``, ``Param``, ``Tag``...) picks MLflow's message for a missing name;
    ``length_name`` is what the length message names (``path`` when not given).
    """
    if key is None:
        raise InvalidParameter(_missing_key(kind, path))
    if not isinstance(key, str):
        raise InvalidParameter(
            invalid_value(path, key, f"{kind} name must be a string, got {type(key).__name__}.")
        )
    if not _KEY_RE.match(key):
        raise InvalidParameter(invalid_value(path, key, _BAD_KEY_MESSAGE))
    # Keys may be used as file names: "a/../b" or "./a" must not alias another key.
    if _path_not_unique(key):
        raise InvalidParameter(invalid_value(path, key, _bad_path_message(key)))
    if len(key) > max_length:
        raise InvalidParameter(exceeds_maximum_length(length_name or path, max_length))
    return key


def validate_value(name: str, value: Any, max_length: int) -> str:
    """A value as text, at most ``max_length`` characters; ``name`` is what the message names
    (MLflow's: ``Param value``, ``value``, ``tags[2].value``)."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > max_length:
        raise InvalidParameter(exceeds_maximum_length(name, max_length))
    return text


def validate_param(key: Any, value: Any, *, path: str = "") -> tuple[str, str]:
    key = validate_key("Param", key, path=json_path(path, "key"), length_name="Param key")
    return key, validate_value("Param value", value, MAX_PARAM_VAL_LENGTH)


def validate_tag(key: Any, value: Any, *, path: str = "") -> tuple[str, str]:
    key = validate_key("Tag", key, path=json_path(path, "key"))
    return key, validate_value(json_path(path, "value"), value, MAX_TAG_VAL_LENGTH)


def validate_experiment_tag(key: Any, value: Any) -> tuple[str, str]:
    key = validate_key("Tag", key, max_length=MAX_EXPERIMENT_TAG_KEY_LENGTH)
    return key, validate_value("value", value, MAX_EXPERIMENT_TAG_VAL_LENGTH)


_checked_metric_keys: set[str] = set()


def _is_integral(value: Any) -> bool:
    return type(value) is int or (
        not isinstance(value, bool) and isinstance(value, numbers.Integral)
    )


def validate_metric(
    key: Any, value: Any, timestamp: Any, step: Any, *, path: str = ""
) -> tuple[str, float, int, int]:
    """Check one metric point; NaN and +/-inf are valid values. ``path`` names the metric in
    a batch (``metrics[3]``).

    This is on the hot path of every ``log_metric``: plain ``float``/``int`` values and keys
    already seen take a fast path (the ``numbers`` ABC checks cost more than the insert).
    """
    if key not in _checked_metric_keys:
        validate_key("Metric", key, path=json_path(path, "name"), length_name="Metric name")
        if len(_checked_metric_keys) < 100_000:
            _checked_metric_keys.add(key)
    value_type = type(value)
    if (
        value_type is not float
        and value_type is not int
        and (isinstance(value, bool) or not isinstance(value, numbers.Real))
    ):
        # numpy scalars are Real; strings, None and bools are not.
        if value is None:
            raise InvalidParameter(missing_value(json_path(path, "value")))
        raise InvalidParameter(
            invalid_value(
                json_path(path, "value"),
                value,
                f"(timestamp={timestamp}). "
                "Please specify value as a valid double (64-bit floating point)",
            )
        )
    if type(timestamp) is not int and not _is_integral(timestamp):
        raise InvalidParameter(
            invalid_value(
                json_path(path, "timestamp"),
                timestamp,
                f"metric '{key}' (value={value}). "
                "Timestamp must be a nonnegative long (64-bit integer) ",
            )
        )
    if type(step) is not int and not _is_integral(step):
        raise InvalidParameter(
            invalid_value(
                json_path(path, "step"),
                step,
                f"metric '{key}' (value={value}). Step must be a valid long (64-bit integer).",
            )
        )
    return key, float(value), int(timestamp), int(step)


def validate_experiment_name(name: Any) -> str:
    if name is None or (isinstance(name, str) and not name.strip()):
        raise InvalidParameter(f"Invalid experiment name: '{name}'")
    if not isinstance(name, str):
        raise InvalidParameter(f"Invalid experiment name: {name}. Expects a string.")
    if len(name) > MAX_EXPERIMENT_NAME_LENGTH:
        raise InvalidParameter(exceeds_maximum_length("name", MAX_EXPERIMENT_NAME_LENGTH))
    return name


def validate_run_name(name: Any) -> str:
    if not isinstance(name, str):
        raise InvalidParameter(f"Run name must be a string, got {type(name).__name__}")
    if len(name) > MAX_RUN_NAME_LENGTH:
        raise InvalidParameter(exceeds_maximum_length("run_name", MAX_RUN_NAME_LENGTH))
    return name


def validate_run_id(run_id: Any, *, path: str = "run_id") -> str:
    if not isinstance(run_id, str) or not _RUN_ID_RE.match(run_id):
        raise InvalidParameter(invalid_value(path, run_id if isinstance(run_id, str) else None))
    return run_id


def validate_experiment_id(experiment_id: Any) -> str:
    if isinstance(experiment_id, int) and not isinstance(experiment_id, bool):
        experiment_id = str(experiment_id)
    if not isinstance(experiment_id, str) or not _EXPERIMENT_ID_RE.match(experiment_id):
        raise InvalidParameter(f"Invalid experiment ID: '{experiment_id}'")
    return experiment_id


def parse_experiment_id(experiment_id: Any) -> int:
    """An experiment id of the SQL store as the integer it is (MLflow's message if not)."""
    try:
        return int(experiment_id)
    except (ValueError, TypeError):
        raise InvalidParameter(
            f"Invalid experiment ID '{experiment_id}'. Experiment ID must be a valid integer."
        ) from None


def _validate_batch_limit(entity_name: str, limit: int, length: int) -> None:
    if length > limit:
        raise InvalidParameter(
            f"A batch logging request can contain at most {limit} {entity_name}. "
            f"Got {length} {entity_name}. Please split up {entity_name} across multiple"
            " requests and try again."
        )


def validate_batch_sizes(
    metrics: Sequence[Any], params: Sequence[Any], tags: Sequence[Any]
) -> None:
    """MLflow's ``log_batch`` limits: 1000 metrics, 100 params, 100 tags, 1000 in all."""
    _validate_batch_limit("metrics", MAX_METRICS_PER_BATCH, len(metrics))
    _validate_batch_limit("params", MAX_PARAMS_TAGS_PER_BATCH, len(params))
    _validate_batch_limit("tags", MAX_PARAMS_TAGS_PER_BATCH, len(tags))
    total = len(metrics) + len(params) + len(tags)
    _validate_batch_limit("metrics, params, and tags", MAX_ENTITIES_PER_BATCH, total)


def duplicate_param_keys(keys: Sequence[str]) -> InvalidParameter:
    """MLflow's error for a batch that repeats param keys (``keys``: the repeated ones)."""
    return InvalidParameter(
        f"Duplicate parameter keys have been submitted: {list(keys)}. Please ensure "
        "the request contains only one param value per param key."
    )


def validate_max_results(max_results: Any, limit: int) -> int:
    if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results <= 0:
        raise InvalidParameter(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be "
            "a positive integer"
        )
    if max_results > limit:
        raise InvalidParameter(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be at "
            f"most {limit}"
        )
    return max_results


def validate_dataset(
    name: str, digest: str, source_type: str, source: str, schema: str | None, profile: str | None
) -> None:
    for field, required in (("name", name), ("digest", digest), ("source_type", source_type)):
        if not required:
            raise InvalidParameter(f"Dataset {field} cannot be None")
    checks: tuple[tuple[str, str | None, int], ...] = (
        ("name", name, MAX_DATASET_NAME_SIZE),
        ("digest", digest, MAX_DATASET_DIGEST_SIZE),
        ("source", source, MAX_DATASET_SOURCE_SIZE),
        ("schema", schema, MAX_DATASET_SCHEMA_SIZE),
        ("profile", profile, MAX_DATASET_PROFILE_SIZE),
    )
    for field, value, limit in checks:
        if value is not None and len(value) > limit:
            raise InvalidParameter(exceeds_maximum_length(field, limit))


def validate_input_tag(key: str, value: str) -> None:
    if not key:
        raise InvalidParameter("InputTag key cannot be None")
    if len(key) > MAX_INPUT_TAG_KEY_SIZE:
        raise InvalidParameter(exceeds_maximum_length("key", MAX_INPUT_TAG_KEY_SIZE))
    if len(value) > MAX_INPUT_TAG_VALUE_SIZE:
        raise InvalidParameter(exceeds_maximum_length("value", MAX_INPUT_TAG_VALUE_SIZE))


def is_nan(value: float) -> bool:
    return math.isnan(value)
