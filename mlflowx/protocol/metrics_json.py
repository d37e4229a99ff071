"""Long metric lists to JSON without a model object per point.

A ``metrics/get-history`` answer can hold a million points; building a :class:`MetricJ` for each
and letting FastAPI validate and serialise them costs ~15x the database read. This writes what
``GetMetricHistoryResponse(...).model_dump_json(by_alias=True, exclude_none=True)`` writes (the
wire format of every other answer: fields in the model's order, unset fields left out, NaN and
infinities as protobuf's strings; a number may be spelled differently, e.g. ``1e+16`` for
``1e16``, with the same value), one formatted string per point.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from mlflowx.entities import Metric
from mlflowx.utils.gc import gc_paused

__all__ = ["metrics_response_json", "parse_metrics_response"]

_NON_FINITE = {"nan": '"NaN"', "inf": '"Infinity"', "-inf": '"-Infinity"'}


def metrics_response_json(metrics: Sequence[Metric], next_page_token: str | None = None) -> bytes:
    """``{"metrics": [...], "next_page_token": ...}`` (the token left out when ``None``)."""
    with gc_paused():
        return _encode(metrics, next_page_token)


def _encode(metrics: Sequence[Metric], next_page_token: str | None) -> bytes:
    text: dict[str | None, str] = {}  # each key and run id encoded once

    def encoded(value: str | None) -> str:
        found = text.get(value)
        if found is None:
            found = text[value] = json.dumps(value)
        return found

    isfinite, r = math.isfinite, float.__repr__
    parts = []
    for m in metrics:
        value = float(m.value)
        v = r(value) if isfinite(value) else _NON_FINITE[r(value)]
        point = f'{{"key":{encoded(m.key)},"value":{v},"timestamp":{m.timestamp},"step":{m.step}'
        if m.run_id is not None:
            point += f',"run_id":{encoded(m.run_id)}'
        if m.dataset_name is not None or m.dataset_digest is not None or m.model_id is not None:
            extra = {
                "dataset_name": m.dataset_name,
                "dataset_digest": m.dataset_digest,
                "model_id": m.model_id,
            }
            point += "".join(f',"{k}":{json.dumps(x)}' for k, x in extra.items() if x is not None)
        parts.append(point + "}")
    token = "" if next_page_token is None else f',"next_page_token":{json.dumps(next_page_token)}'
    return f'{{"metrics":[{",".join(parts)}]{token}}}'.encode()


def parse_metrics_response(content: bytes, run_id: str) -> tuple[list[Metric], str | None]:
    """A ``metrics/get-history`` answer (of mlflowx or MLflow) as entities and the next page's
    token, without a model object per point: what the wire model would accept (numbers as
    strings, NaN and infinities as protobuf's strings), checked as it is read.

    Raises:
        ValueError: the answer is not such JSON.
    """
    with gc_paused():
        return _parse(content, run_id)


def _parse(content: bytes, run_id: str) -> tuple[list[Metric], str | None]:
    parsed: Any = json.loads(content or b"{}")
    if not isinstance(parsed, dict) or not isinstance(parsed.get("metrics", []), list):
        raise ValueError(f"not a metric history answer: {bytes(content[:200])!r}")
    try:
        metrics = [
            Metric(
                str(m["key"]),
                float(m["value"]),
                int(m["timestamp"]),
                int(m.get("step", 0)),
                run_id,
                m.get("model_id"),
                m.get("dataset_name"),
                m.get("dataset_digest"),
            )
            for m in parsed.get("metrics", [])
        ]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"not a metric history answer: {exc}") from None
    token = parsed.get("next_page_token") or None
    return metrics, None if token is None else str(token)
