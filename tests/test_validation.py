"""MLflow's limits and key rules, with errors that name what is wrong."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mlflowx.exceptions import InvalidParameter
from mlflowx.utils import validation as v


@pytest.mark.parametrize("key", ["a", "a/b", "a.b-c_d e:f", "x" * 250, "metrics/train loss"])
def test_valid_keys(key: str) -> None:
    assert v.validate_key("Metric", key) == key


@pytest.mark.parametrize(
    ("key", "match"),
    [
        ("", "This name would resolve to '.'"),
        ("x" * 251, "^'key' exceeds the maximum length of 250 characters$"),
        ("a!b", r"^Invalid value \"a!b\" for parameter 'key' supplied: Names may only contain"),
        ("a/../b", "must not resolve to other names"),
        ("./a", "must not resolve to other names"),
        ("/abs", "must not resolve to other names"),
        ("a//b", "must not resolve to other names"),
        ("..a", "must not resolve to other names"),
        (3, "must be a string"),
    ],
)
def test_invalid_keys(key: object, match: str) -> None:
    with pytest.raises(InvalidParameter, match=match):
        v.validate_key("Metric", key)


def test_metric_values() -> None:
    assert v.validate_metric("m", np.float32(1.5), 1, 0) == ("m", 1.5, 1, 0)
    assert math.isnan(v.validate_metric("m", math.nan, 1, 0)[1])
    assert v.validate_metric("m", -math.inf, 1, 0)[1] == -math.inf
    with pytest.raises(InvalidParameter, match=r"^Invalid value \"x\" for parameter 'value' "):
        v.validate_metric("m", "x", 1, 0)
    with pytest.raises(InvalidParameter, match="Invalid value true for parameter 'value'"):
        v.validate_metric("m", True, 1, 0)
    with pytest.raises(InvalidParameter, match="Missing value for required parameter 'value'"):
        v.validate_metric("m", None, 1, 0)
    with pytest.raises(InvalidParameter, match=r"'metrics\[2\]\.timestamp' supplied: metric 'm'"):
        v.validate_metric("m", 1.0, 1.5, 0, path="metrics[2]")
    with pytest.raises(InvalidParameter, match="Step must be a valid long"):
        v.validate_metric("m", 1.0, 1, "3")


def test_value_lengths() -> None:
    v.validate_param("p", "x" * 6000)
    with pytest.raises(InvalidParameter, match="'Param value' exceeds the maximum length of 6000"):
        v.validate_param("p", "x" * 6001)
    v.validate_tag("t", "x" * 8000)
    with pytest.raises(InvalidParameter, match=r"'tags\[1\]\.value' exceeds the maximum length"):
        v.validate_tag("t", "x" * 8001, path="tags[1]")
    with pytest.raises(InvalidParameter, match="'name' exceeds the maximum length of 500"):
        v.validate_experiment_name("e" * 501)
    with pytest.raises(InvalidParameter, match=r"^Invalid experiment name: ''$"):
        v.validate_experiment_name("")


def test_batch_total_limit() -> None:
    with pytest.raises(InvalidParameter, match=r"1000 metrics, params, and tags\. Got 1100"):
        v.validate_batch_sizes([0] * 900, [0] * 100, [0] * 100)


def test_max_results() -> None:
    with pytest.raises(InvalidParameter, match="max_results"):
        v.validate_max_results(0, 10)
    with pytest.raises(InvalidParameter, match="at most 10"):
        v.validate_max_results(11, 10)


def test_run_id_in_mlflow_words() -> None:
    """MLflow's client checks run ids before sending them; mlflowx's store says the same."""
    import mlflow.utils.validation as mlflow_validation
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException, match="run_id") as theirs:
        mlflow_validation._validate_run_id("bad!id")
    with pytest.raises(InvalidParameter, match="run_id") as ours:
        v.validate_run_id("bad!id")
    assert ours.value.message == theirs.value.message
