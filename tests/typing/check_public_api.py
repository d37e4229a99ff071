"""Static checks of the public API's types, run by mypy (``make lint``), never by pytest.

The decorators keep the wrapped function's signature and return type, and the names
``import mlflowx`` provides on first use have their real types. A ``type: ignore[...]`` below
marks a call that must be an error: mypy's strict mode reports an ignore that is not needed.
"""

from __future__ import annotations

from typing import assert_type

import mlflowx
from mlflowx.orchestration import TrackedFlow


@mlflowx.flow
def pipeline(alpha: float, name: str = "x") -> dict[str, float]:
    return {name: alpha}


@mlflowx.flow(experiment="typed")
def configured(n: int) -> int:
    return n


@mlflowx.task
def plain(rows: list[int]) -> int:
    return len(rows)


@mlflowx.task(track=True, retries=1)
def tracked(rows: list[int], scale: float = 1.0) -> float:
    return len(rows) * scale


def calls() -> None:
    assert_type(pipeline(0.5), dict[str, float])
    assert_type(configured(1), int)
    assert_type(plain([1, 2]), int)
    assert_type(tracked([1], scale=2.0), float)
    assert isinstance(pipeline, TrackedFlow)
    assert_type(pipeline.with_options(name="other")(1.0), dict[str, float])
    pipeline("not a float")  # type: ignore[call-overload]
    configured()  # type: ignore[call-overload]
    tracked([1], scale="x")  # type: ignore[call-overload]


def lazy_names(model: object) -> None:
    from mlflowx.models.evaluation import EvaluationResult
    from mlflowx.pyfunc import PyFuncModel

    assert_type(
        mlflowx.evaluate(model, [[1.0]], targets=[1], model_type="classifier"), EvaluationResult
    )
    assert_type(mlflowx.pyfunc.load_model("models:/m/1"), PyFuncModel)
    mlflowx.sklearn.log_model()  # type: ignore[call-arg]


def search_results() -> None:
    import pandas as pd

    from mlflowx.entities import Run

    assert_type(mlflowx.search_runs(["0"]), pd.DataFrame)
    assert_type(mlflowx.search_runs(["0"], output_format="pandas"), pd.DataFrame)
    assert_type(mlflowx.search_runs(["0"], output_format="list"), list[Run])
    mlflowx.search_runs(output_format="table")  # type: ignore[call-overload]


def flavor_options(model: object) -> None:
    from mlflowx.models.mlmodel import Model

    # The options every flavor shares are typed once (models/options.py) and checked by name.
    assert_type(mlflowx.sklearn.save_model(model, "m", input_example=[[1.0]]), Model)
    mlflowx.sklearn.save_model(model, "m", signatur=None)  # type: ignore[call-arg]
    mlflowx.xgboost.log_model(model, "m", step="1")  # type: ignore[arg-type]
    mlflowx.pytorch.save_model(model, "m", code_paths=["net.py"], serialization_format="pt2")
