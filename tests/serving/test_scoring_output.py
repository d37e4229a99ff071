"""The orjson fast path of the scoring server's output writes the numbers Python's json writes
(as MLflow's server does) for every output it takes, and leaves the rest to json."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from mlflowx.serving.scoring import output
from mlflowx.serving.scoring.output import predictions_json, to_json_bytes

_rng = np.random.default_rng(0)

OUTPUTS: dict[str, Any] = {
    "float64": _rng.normal(size=(5, 3)),
    "float32": _rng.normal(size=(5, 3)).astype(np.float32),
    "float32-tiny": np.array([1e-30, 3.4e38, -0.0, 0.1], dtype=np.float32),
    "fortran": np.asfortranarray(_rng.normal(size=(4, 3))),
    "int64": np.arange(6, dtype=np.int64).reshape(2, 3),
    "bool": np.array([True, False]),
    "dict": {
        "y": _rng.normal(size=(3, 2)).astype(np.float32),
        "label": np.array([0, 2, 1], dtype=np.int64),
    },
    "nan": np.array([1.0, np.nan, np.inf]),
    "dict-with-nan": {"y": np.array([np.nan], dtype=np.float32)},
    "strings": np.array(["a", "b"]),
    "scalar": np.float64(0.5),
}


@pytest.mark.parametrize("name", sorted(OUTPUTS))
@pytest.mark.parametrize("wrap", [True, False])
def test_same_numbers_as_python_json(name: str, wrap: bool) -> None:
    raw = OUTPUTS[name]
    data = (
        {k: v.tolist() for k, v in raw.items()} if isinstance(raw, dict) else output.jsonable(raw)
    )
    expected = to_json_bytes({"predictions": data} if wrap else data)
    got = predictions_json(raw, wrap=wrap)
    # json.loads reads NaN and Infinity, so this also checks that they are not written as null.
    assert json.loads(got) == json.loads(expected)
    assert repr(json.loads(got)) == repr(json.loads(expected))


@pytest.mark.parametrize(
    ("name", "fast"),
    [
        ("float32", True),
        ("fortran", True),
        ("dict", True),
        ("nan", False),
        ("dict-with-nan", False),
        ("strings", False),
        ("scalar", False),
    ],
)
def test_which_outputs_take_orjson(name: str, fast: bool) -> None:
    assert (output._fast(OUTPUTS[name]) is not None) is fast
