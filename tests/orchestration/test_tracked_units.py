"""Tracked flows and tasks without a Prefect server: flattening, direct calls, decoration."""

from __future__ import annotations

import enum
import json
import subprocess
import sys
from collections import namedtuple
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import mlflowx
from mlflowx.exceptions import InvalidParameter
from mlflowx.orchestration import current_run_id, flow, flow_run_tags, task
from mlflowx.orchestration._flatten import (
    TRUNCATED_MARK,
    flatten_params,
    flatten_results,
)


class Color(enum.Enum):
    RED = "red"


class Inner(BaseModel):
    depth: int = 3
    tags: list[str] = ["a", "b"]


class Spec(BaseModel):
    estimator: str = "sklearn.linear_model.Ridge"
    inner: Inner = Inner()
    extra: dict[str, Any] = {"alpha": 0.5, "nested": {"k": True}}


@dataclass
class Split:
    test_size: float = 0.2
    seeds: tuple[int, ...] = (1, 2)
    opts: dict[str, int] = field(default_factory=lambda: {"n": 1})


Point = namedtuple("Point", "x y")


def test_params_flatten_models_dataclasses_and_mappings() -> None:
    params, truncated = flatten_params(
        {
            "spec": Spec(),
            "split": Split(),
            "color": Color.RED,
            "path": Path("/data/iris.csv"),
            "point": Point(1, 2),
            "none": None,
            "weird key!": 1,
            "items": [Inner(depth=1)],
            "array_like": object(),
            "empty": {},
        }
    )
    assert truncated == []
    assert params == {
        "spec.estimator": "sklearn.linear_model.Ridge",
        "spec.inner.depth": "3",
        "spec.inner.tags": '["a", "b"]',
        "spec.extra.alpha": "0.5",
        "spec.extra.nested.k": "True",
        "split.test_size": "0.2",
        "split.seeds": "[1, 2]",
        "split.opts.n": "1",
        "color": "red",
        "path": "/data/iris.csv",
        "point.x": "1",
        "point.y": "2",
        "none": "None",
        "weird key_": "1",  # MLflow allows spaces, not "!"
        "items": json.dumps([{"depth": 1, "tags": ["a", "b"]}]),
    }


def test_too_long_params_are_cut_and_listed() -> None:
    params, truncated = flatten_params({"short": "x", "long": "y" * 7000})
    assert truncated == ["long"]
    assert len(params["long"]) == 6000
    assert params["long"].endswith(TRUNCATED_MARK)
    assert params["short"] == "x"


def test_results_become_metrics_tags_and_models() -> None:
    import numpy as np
    from sklearn.linear_model import Ridge

    model = Ridge()
    results = flatten_results(
        {
            "acc": 0.9,
            "n": np.int64(3),
            "f": np.float32(0.5),
            "ok": True,
            "label": "best",
            "scores": {"f1": 0.7, "per_class": [0.1, 0.2]},
            "model": model,
            "nothing": None,
            "big": list(range(1000)),
            "arr": np.zeros(3),
        }
    )
    assert results.metrics == {
        "acc": 0.9,
        "n": 3.0,
        "f": 0.5,
        "scores.f1": 0.7,
        "scores.per_class.0": 0.1,
        "scores.per_class.1": 0.2,
    }
    assert results.tags == {"ok": "True", "label": "best"}
    assert results.models == {"model": model}
    assert flatten_results(0.25).metrics == {"result": 0.25}
    assert flatten_results((1, "a")).metrics == {"result.0": 1.0}
    assert flatten_results(Inner(depth=4)).metrics == {"depth": 4.0}
    assert not flatten_results(None)
    assert flatten_results(model).models == {"model": model}


def runs_of(experiment: str) -> list[Any]:
    client = mlflowx.MlflowClient()
    found = client.get_experiment_by_name(experiment)
    assert found is not None
    return list(client.search_runs([found.experiment_id]))


def test_calling_the_function_directly_still_tracks() -> None:
    """``flow.fn(...)``/``task.fn(...)`` skip Prefect's engine; the run is still captured."""
    seen: dict[str, Any] = {}

    @task(track=True)
    def step(x: int) -> float:
        seen["step"] = current_run_id()
        return x * 2.0

    @flow(experiment="direct", run_name="direct-{k}")
    def pipeline(k: int = 1) -> dict[str, float]:
        seen["flow"] = current_run_id()
        assert flow_run_tags() == {}
        return {"out": step.fn(k)}

    assert pipeline.fn(k=4) == {"out": 8.0}
    assert current_run_id() is None
    runs = runs_of("direct")
    assert len(runs) == 2
    parent = next(r for r in runs if r.info.run_id == seen["flow"])
    child = next(r for r in runs if r.info.run_id == seen["step"])
    assert parent.info.run_name == "direct-4"
    assert parent.info.status == child.info.status == "FINISHED"
    assert parent.data.params == {"k": "4"}
    assert parent.data.metrics == {"out": 8.0}
    assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert child.data.metrics == {"result": 8.0}


def test_direct_call_failure_marks_the_run_failed() -> None:
    @flow(experiment="direct-fail")
    def broken() -> None:
        raise KeyError("missing column")

    with pytest.raises(KeyError, match="missing column"):
        broken.fn()
    (run,) = runs_of("direct-fail")
    assert run.info.status == "FAILED"
    assert run.data.tags["mlflowx.prefect.error"] == "KeyError: 'missing column'"


def test_decorators_return_real_prefect_objects() -> None:
    import prefect

    @mlflowx.flow
    def bare(a: int = 1) -> int:
        return a

    @mlflowx.task(track=True, retries=2)
    def tracked_step(a: int) -> int:
        return a

    @mlflowx.task
    def plain_step(a: int) -> int:
        return a

    assert isinstance(bare, prefect.Flow)
    assert bare.name == "bare"
    assert bare.parameters.properties["a"]["default"] == 1
    assert bare._entrypoint.endswith(":test_decorators_return_real_prefect_objects.<locals>.bare")
    assert isinstance(tracked_step, prefect.Task)
    assert tracked_step.retries == 2
    assert isinstance(plain_step, prefect.Task)
    assert plain_step.name == "plain_step"


def test_generators_are_refused() -> None:
    def gen() -> Any:
        yield 1

    with pytest.raises(InvalidParameter, match="generator"):
        flow(gen)
    with pytest.raises(InvalidParameter, match="generator"):
        task(gen, track=True)


def test_import_mlflowx_does_not_import_prefect() -> None:
    code = (
        "import sys, mlflowx\n"
        "assert 'prefect' not in sys.modules\n"
        "f = mlflowx.flow\n"
        "assert 'prefect' in sys.modules\n"
        "assert f.__module__.startswith('mlflowx.orchestration.tracked')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
