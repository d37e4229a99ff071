"""The hand-written JSON of long metric lists is the wire model's JSON, value for value."""

from __future__ import annotations

import json
import math
import random

import pytest

from mlflowx.entities import Metric
from mlflowx.protocol import endpoints as p
from mlflowx.protocol.metrics_json import metrics_response_json
from mlflowx.protocol.models import MetricJ


def _pydantic(metrics: list[Metric], token: str | None) -> bytes:
    response = p.GetMetricHistoryResponse(
        metrics=[MetricJ.of(m) for m in metrics], next_page_token=token
    )
    return response.model_dump_json(by_alias=True, exclude_none=True).encode()


def test_same_json_as_the_wire_model() -> None:
    rng = random.Random(1)
    values = [0.0, -0.0, 1e16, 1e-300, -2.5, math.nan, math.inf, -math.inf, 3, 0.1]
    metrics = [
        Metric(
            rng.choice(["loss", 'quo"te', "ünï\\code", "a/b c"]),
            rng.choice(values) if i % 3 else rng.uniform(-1e9, 1e9),
            rng.randrange(2**62),
            rng.randrange(-(2**40), 2**40),
            rng.choice([None, "f" * 32]),
            *(rng.choice([(None, None, None), ("m-1", None, None), (None, "ds", "abc")])),
        )
        for i in range(500)
    ]
    for token in (None, "eyJhZnRlciI6IFsxXX0=", 'we"ird'):
        got = metrics_response_json(metrics, token)
        assert json.loads(got) == json.loads(_pydantic(metrics, token))
    assert json.loads(metrics_response_json([])) == {"metrics": []}


def test_parse_reads_what_the_wire_model_reads() -> None:
    from mlflowx.protocol.metrics_json import parse_metrics_response

    body = (
        b'{"metrics": [{"key": "m", "value": "NaN", "timestamp": "12", "step": "3"},'
        b' {"key": "m", "value": -1, "timestamp": 13, "model_id": "x"},'
        b' {"key": "m", "value": "-Infinity", "timestamp": 14, "step": 5}],'
        b' "next_page_token": "tok"}'
    )
    metrics, token = parse_metrics_response(body, "r" * 32)
    assert token == "tok"
    assert math.isnan(metrics[0].value)
    assert [(m.value, m.timestamp, m.step) for m in metrics[1:]] == [
        (-1.0, 13, 0),
        (-math.inf, 14, 5),
    ]
    assert metrics[1].model_id == "x"
    assert {m.run_id for m in metrics} == {"r" * 32}
    assert parse_metrics_response(b"{}", "r") == ([], None)
    for bad in (
        b"[]",
        b'{"metrics": [{"value": 1}]}',
        b'{"metrics": [{"key": "m", "value": "x", "timestamp": 1}]}',
    ):
        with pytest.raises(ValueError, match="not a metric history answer"):
            parse_metrics_response(bad, "r")
