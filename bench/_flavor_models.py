"""The model each flavor's serving bench serves: iris-sized (4 features), saved by mlflowx with
a signature, plus the 1-row and 1,000-row request bodies for it.

Tensor models (pytorch, keras, onnx) get ``{"inputs": [[...]]}`` bodies, the column models
(sklearn, xgboost, lightgbm, statsmodels) ``dataframe_split`` ones.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FLAVORS = ("sklearn", "xgboost", "lightgbm", "pytorch", "keras", "onnx", "statsmodels")


def _iris() -> tuple[Any, Any]:
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True, as_frame=True)
    return X, y


def _tensor_bodies(rows: Any) -> dict[str, bytes]:
    return {
        "one": json.dumps({"inputs": rows[:1].tolist()}).encode(),
        "batch": json.dumps({"inputs": rows.tolist()}).encode(),
    }


def _frame_bodies(columns: list[str], rows: Any) -> dict[str, bytes]:
    def body(data: Any) -> bytes:
        return json.dumps({"dataframe_split": {"columns": columns, "data": data}}).encode()

    return {"one": body(rows[:1].tolist()), "batch": body(rows.tolist())}


def make_model(flavor: str, root: Path) -> tuple[Path, dict[str, bytes]]:
    import numpy as np
    import pandas as pd

    X, y = _iris()
    big = pd.concat([X] * 7, ignore_index=True).head(1000)
    rows = big.to_numpy(dtype=np.float32)
    path = root / f"{flavor}-model"
    if flavor == "sklearn":
        from sklearn.linear_model import LogisticRegression

        import mlflowx.sklearn

        mlflowx.sklearn.save_model(
            LogisticRegression(max_iter=1000).fit(X, y), path, input_example=X.head(3)
        )
        bodies = _frame_bodies(list(X.columns), big.to_numpy())
    elif flavor == "xgboost":
        import xgboost as xgb

        import mlflowx.xgboost

        model = xgb.XGBClassifier(n_estimators=100, max_depth=4).fit(X, y)
        mlflowx.xgboost.save_model(model, path, input_example=X.head(3))
        bodies = _frame_bodies(list(X.columns), big.to_numpy())
    elif flavor == "lightgbm":
        import lightgbm as lgb

        import mlflowx.lightgbm

        model = lgb.LGBMClassifier(n_estimators=100, verbose=-1).fit(X, y)
        mlflowx.lightgbm.save_model(model, path, input_example=X.head(3))
        bodies = _frame_bodies(list(X.columns), big.to_numpy())
    elif flavor == "pytorch":
        import torch

        import mlflowx.pytorch

        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Linear(4, 32), torch.nn.ReLU(), torch.nn.Linear(32, 3))
        mlflowx.pytorch.save_model(net, path, input_example=rows[:5])
        bodies = _tensor_bodies(rows)
    elif flavor == "keras":
        import mlflowx.keras
        from mlflowx.models.flavors.keras import import_keras

        keras = import_keras()
        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [keras.Input((4,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(3)]
        )
        mlflowx.keras.save_model(model, path, input_example=rows[:5])
        bodies = _tensor_bodies(rows)
    elif flavor == "onnx":
        import mlflowx.onnx

        mlflowx.onnx.save_model(_onnx_mlp(), path, input_example=rows[:5])
        bodies = _tensor_bodies(rows)
    elif flavor == "statsmodels":
        import statsmodels.api as sm

        import mlflowx.statsmodels

        results = sm.OLS(y.astype(float), X).fit()
        mlflowx.statsmodels.save_model(results, path, input_example=X.head(3))
        bodies = _frame_bodies(list(X.columns), big.to_numpy())
    else:
        raise SystemExit(f"unknown flavor {flavor!r}; one of {', '.join(FLAVORS)}")
    return path, bodies


def _onnx_mlp() -> Any:
    """4 -> 32 (relu) -> 3, built with onnx.helper (no converter needed)."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    w1 = rng.normal(size=(4, 32)).astype(np.float32)
    w2 = rng.normal(size=(32, 3)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "w1"], ["h"]),
            helper.make_node("Relu", ["h"], ["r"]),
            helper.make_node("MatMul", ["r", "w2"], ["y"]),
        ],
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 3])],
        [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model
