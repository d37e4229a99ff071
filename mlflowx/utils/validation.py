"""MLflow's input limits, checked once and reported with the offending field named."""

from __future__ import annotations

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
MAX_EXPERIMENT_TAG_VAL_LENGTH = 5000
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
    "spaces ( ), colons (:) and slashes (/)"
)


def _shorten(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def validate_key(kind: str, key: Any, *, max_length: int = MAX_ENTITY_KEY_LENGTH) -> str:
    """Check a metric, param or tag name as MLflow does (charset, length, path-uniqueness)."""
    if not isinstance(key, str):
        raise InvalidParameter(f"{kind} name must be a string, got {type(key).__name__}: {key!r}")
    if not key:
        raise InvalidParameter(f"{kind} name must not be empty")
    if len(key) > max_length:
        raise InvalidParameter(
            f"{kind} name {_shorten(key)} is {len(key)} characters long; the limit is {max_length}"
        )
    if not _KEY_RE.match(key):
        raise InvalidParameter(f"Invalid {kind.lower()} name {key!r}. {_BAD_KEY_MESSAGE}.")
    # Keys may be used as file names: "a/../b" or "./a" must not alias another key.
    if (
        posixpath.normpath(key) != key
        or key.startswith("/")
        or key.endswith("/")
        or ".." in key.split("/")
    ):
        raise InvalidParameter(
            f"Invalid {kind.lower()} name {key!r}: names may be treated as files and must not "
            "resolve to other names when treated as such"
        )
    return key


def validate_value(kind: str, key: str, value: Any, max_length: int) -> str:
    text = value if isinstance(value, str) else str(value)
    if len(text) > max_length:
        raise InvalidParameter(
            f"{kind} {key!r} has a value of {len(text)} characters; the limit is {max_length}"
        )
    return text


def validate_param(key: Any, value: Any) -> tuple[str, str]:
    key = validate_key("Param", key)
    return key, validate_value("Param", key, value, MAX_PARAM_VAL_LENGTH)


def validate_tag(key: Any, value: Any) -> tuple[str, str]:
    key = validate_key("Tag", key)
    return key, validate_value("Tag", key, value, MAX_TAG_VAL_LENGTH)


def validate_experiment_tag(key: Any, value: Any) -> tuple[str, str]:
    key = validate_key("Experiment tag", key, max_length=MAX_EXPERIMENT_TAG_KEY_LENGTH)
    return key, validate_value("Experiment tag", key, value, MAX_EXPERIMENT_TAG_VAL_LENGTH)


_checked_metric_keys: set[str] = set()


def validate_metric(key: Any, value: Any, timestamp: Any, step: Any) -> tuple[str, float, int, int]:
    """Check one metric point; NaN and +/-inf are valid values.

    This is on the hot path of every ``log_metric``: plain ``float``/``int`` values and keys
    already seen take a fast path (the ``numbers`` ABC checks cost more than the insert).
    """
    if key not in _checked_metric_keys:
        validate_key("Metric", key)
        if len(_checked_metric_keys) < 100_000:
            _checked_metric_keys.add(key)
    value_type = type(value)
    if (
        value_type is not float
        and value_type is not int
        and (isinstance(value, bool) or not isinstance(value, numbers.Real))
    ):
        # numpy scalars are Real; strings, None and bools are not.
        raise InvalidParameter(
            f"Got invalid value {_shorten(value)} for metric {key!r} (timestamp={timestamp}). "
            "Please specify value as a valid double (64-bit floating point)"
        )
    if type(timestamp) is not int and (
        isinstance(timestamp, bool) or not isinstance(timestamp, numbers.Integral)
    ):
        raise InvalidParameter(
            f"Got invalid timestamp {_shorten(timestamp)} for metric {key!r} (value={value}). "
            "Timestamp must be a nonnegative long (64-bit integer)"
        )
    if type(step) is not int and (isinstance(step, bool) or not isinstance(step, numbers.Integral)):
        raise InvalidParameter(
            f"Got invalid step {_shorten(step)} for metric {key!r} (value={value}). "
            "Step must be a valid long (64-bit integer)"
        )
    return key, float(value), int(timestamp), int(step)


def validate_experiment_name(name: Any) -> str:
    if not isinstance(name, str):
        raise InvalidParameter(
            f"Invalid experiment name {name!r}: expected a string, got {type(name).__name__}"
        )
    if not name.strip():
        raise InvalidParameter("Invalid experiment name: it must not be empty")
    if len(name) > MAX_EXPERIMENT_NAME_LENGTH:
        raise InvalidParameter(
            f"Invalid experiment name: {len(name)} characters; the limit is "
            f"{MAX_EXPERIMENT_NAME_LENGTH}"
        )
    return name


def validate_run_name(name: Any) -> str:
    if not isinstance(name, str):
        raise InvalidParameter(f"Run name must be a string, got {type(name).__name__}")
    if len(name) > MAX_RUN_NAME_LENGTH:
        raise InvalidParameter(
            f"Run name is {len(name)} characters long; the limit is {MAX_RUN_NAME_LENGTH}"
        )
    return name


def validate_run_id(run_id: Any) -> str:
    if not isinstance(run_id, str) or not _RUN_ID_RE.match(run_id):
        raise InvalidParameter(f"Invalid run ID: {_shorten(run_id)}")
    return run_id


def validate_experiment_id(experiment_id: Any) -> str:
    if isinstance(experiment_id, int) and not isinstance(experiment_id, bool):
        experiment_id = str(experiment_id)
    if not isinstance(experiment_id, str) or not _EXPERIMENT_ID_RE.match(experiment_id):
        raise InvalidParameter(f"Invalid experiment ID: {_shorten(experiment_id)}")
    return experiment_id


def validate_batch_sizes(
    metrics: Sequence[Any], params: Sequence[Any], tags: Sequence[Any]
) -> None:
    """MLflow's ``log_batch`` limits: 1000 metrics, 100 params, 100 tags, 1000 in all."""
    if len(metrics) > MAX_METRICS_PER_BATCH:
        raise InvalidParameter(
            f"A batch logging request can contain at most {MAX_METRICS_PER_BATCH} metrics; "
            f"got {len(metrics)}"
        )
    if len(params) > MAX_PARAMS_TAGS_PER_BATCH:
        raise InvalidParameter(
            f"A batch logging request can contain at most {MAX_PARAMS_TAGS_PER_BATCH} params; "
            f"got {len(params)}"
        )
    if len(tags) > MAX_PARAMS_TAGS_PER_BATCH:
        raise InvalidParameter(
            f"A batch logging request can contain at most {MAX_PARAMS_TAGS_PER_BATCH} tags; "
            f"got {len(tags)}"
        )
    total = len(metrics) + len(params) + len(tags)
    if total > MAX_ENTITIES_PER_BATCH:
        raise InvalidParameter(
            f"A batch logging request can contain at most {MAX_ENTITIES_PER_BATCH} metrics, "
            f"params and tags in total; got {total}"
        )


def validate_max_results(max_results: Any, limit: int) -> int:
    if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results <= 0:
        raise InvalidParameter(
            f"Invalid value {max_results!r} for parameter 'max_results': it must be a positive "
            "integer"
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
    checks = (
        ("name", name, MAX_DATASET_NAME_SIZE),
        ("digest", digest, MAX_DATASET_DIGEST_SIZE),
        ("source", source, MAX_DATASET_SOURCE_SIZE),
        ("schema", schema, MAX_DATASET_SCHEMA_SIZE),
        ("profile", profile, MAX_DATASET_PROFILE_SIZE),
    )
    for field, value, limit in checks:
        if value is not None and len(value) > limit:
            raise InvalidParameter(
                f"Dataset {field} is {len(value)} characters long; the limit is {limit}"
            )
    for field, value in (("name", name), ("digest", digest), ("source_type", source_type)):
        if not value:
            raise InvalidParameter(f"Dataset {field} must not be empty")


def validate_input_tag(key: str, value: str) -> None:
    if not key:
        raise InvalidParameter("Input tag key must not be empty")
    if len(key) > MAX_INPUT_TAG_KEY_SIZE:
        raise InvalidParameter(f"Input tag key {key[:40]!r}... exceeds {MAX_INPUT_TAG_KEY_SIZE}")
    if len(value) > MAX_INPUT_TAG_VALUE_SIZE:
        raise InvalidParameter(
            f"Input tag {key!r} value exceeds {MAX_INPUT_TAG_VALUE_SIZE} characters"
        )


def is_nan(value: float) -> bool:
    return math.isnan(value)
