"""What ``evaluate`` takes in: the evaluation data (features, targets, static predictions) and
the model, turned into plain numpy arrays and predict functions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlflowx.exceptions import InvalidParameter

__all__ = ["EvalData", "Predictor", "model_outputs", "prepare_data", "resolve_model"]

#: MLflow's column names for the eval table when the data does not name them.
DEFAULT_TARGET_NAME = "target"
DEFAULT_PREDICTIONS_NAME = "outputs"


@dataclass
class EvalData:
    """The evaluation data: ``features`` is what the model is called with (the DataFrame
    without its target column, or the numpy array as given)."""

    features: Any
    y_true: Any  # np.ndarray, 1-D
    feature_names: list[str]
    target_name: str
    predictions_name: str
    static_predictions: Any = None  # np.ndarray when evaluating given predictions

    def __len__(self) -> int:
        return len(self.y_true)

    def table(self, y_pred: Any) -> Any:
        """The per-row table: features, target and model output (MLflow's eval table)."""
        import pandas as pd

        if isinstance(self.features, pd.DataFrame):
            frame = self.features.reset_index(drop=True)
        else:
            frame = pd.DataFrame(self.features, columns=self.feature_names)
        return frame.assign(
            **{self.target_name: self.y_true, self.predictions_name: _as_array(y_pred)}
        )


def _as_array(values: Any) -> Any:
    import numpy as np

    return values.to_numpy() if hasattr(values, "to_numpy") else np.asarray(values)


def _column_vector(values: Any, what: str) -> Any:
    array = _as_array(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise InvalidParameter(f"{what} must be one-dimensional, got shape {array.shape}")
    return array


def prepare_data(
    data: Any,
    targets: Any,
    predictions: Any = None,
    feature_names: Sequence[str] | None = None,
    *,
    static: bool = False,
) -> EvalData:
    """Split ``data`` into features and targets. With ``static``, the model's output is read
    from ``predictions`` (a column of ``data`` or an array) instead of calling a model."""
    import numpy as np
    import pandas as pd

    if targets is None:
        raise InvalidParameter("evaluate needs targets= (a column name of data, or an array)")
    if isinstance(data, pd.DataFrame):
        return _prepare_frame(data, targets, predictions, feature_names, static)
    if isinstance(data, pd.Series | str | bytes | dict) or not hasattr(data, "__len__"):
        raise InvalidParameter(
            f"data must be a pandas DataFrame or a numpy array, got {type(data).__name__}"
        )
    features = np.asarray(data)
    if features.ndim == 1:
        features = features.reshape(-1, 1)
    if features.ndim != 2:
        raise InvalidParameter(f"data must be two-dimensional, got shape {features.shape}")
    if isinstance(targets, str):
        raise InvalidParameter(
            f"targets={targets!r} names a column, but data is a numpy array without column "
            "names: pass the targets as an array"
        )
    n_features = features.shape[1]
    if feature_names is None:
        names = [f"feature_{i + 1}" for i in range(n_features)]
    elif len(feature_names) != n_features:
        raise InvalidParameter(
            f"feature_names has {len(feature_names)} names but data has {n_features} columns"
        )
    else:
        names = [str(n) for n in feature_names]
    y_true = _checked_rows(_column_vector(targets, "targets"), len(features), "targets")
    static_predictions = None
    pred_name = DEFAULT_PREDICTIONS_NAME
    if static:
        if predictions is None or isinstance(predictions, str):
            raise InvalidParameter(
                "Without a model, pass predictions= as an array of the model's outputs"
            )
        static_predictions = _checked_rows(
            _column_vector(predictions, "predictions"), len(features), "predictions"
        )
    elif isinstance(predictions, str):
        pred_name = predictions
    return EvalData(features, y_true, names, DEFAULT_TARGET_NAME, pred_name, static_predictions)


def _checked_rows(array: Any, n_rows: int, what: str) -> Any:
    if len(array) != n_rows:
        raise InvalidParameter(f"{what} has {len(array)} rows but data has {n_rows}")
    return array


def _prepare_frame(
    frame: Any,
    targets: Any,
    predictions: Any,
    feature_names: Sequence[str] | None,
    static: bool,
) -> EvalData:
    columns = [str(c) for c in frame.columns]
    drop: list[str] = []
    if isinstance(targets, str):
        if targets not in frame.columns:
            raise InvalidParameter(
                f"targets column {targets!r} is not in data; its columns are {columns}"
            )
        y_true = _column_vector(frame[targets], "targets")
        target_name = targets
        drop.append(targets)
    else:
        y_true = _checked_rows(_column_vector(targets, "targets"), len(frame), "targets")
        target_name = DEFAULT_TARGET_NAME
    pred_name = predictions if isinstance(predictions, str) else DEFAULT_PREDICTIONS_NAME
    static_predictions = None
    if static:
        if predictions is None:
            raise InvalidParameter(
                "Without a model, pass predictions= (the column of data holding the model's "
                "outputs, or an array)"
            )
        if isinstance(predictions, str):
            if predictions not in frame.columns:
                raise InvalidParameter(
                    f"predictions column {predictions!r} is not in data; its columns are {columns}"
                )
            static_predictions = _column_vector(frame[predictions], "predictions")
            drop.append(predictions)
        else:
            static_predictions = _checked_rows(
                _column_vector(predictions, "predictions"), len(frame), "predictions"
            )
    if feature_names is not None:
        missing = [n for n in feature_names if n not in frame.columns]
        if missing:
            raise InvalidParameter(
                f"feature_names {missing} are not columns of data; its columns are {columns}"
            )
        features = frame[list(feature_names)]
    else:
        features = frame.drop(columns=drop)
    names = [str(c) for c in features.columns]
    return EvalData(features, y_true, names, target_name, pred_name, static_predictions)


# ------------------------------------------------------------------------------ models
@dataclass
class Predictor:
    """How to get outputs out of a model: ``predict``, and ``predict_proba`` when the
    underlying estimator has it. ``raw`` is that estimator (for ``classes_`` and ``score``)."""

    predict: Callable[[Any], Any]
    predict_proba: Callable[[Any], Any] | None
    raw: Any


def resolve_model(model: Any) -> Predictor:
    """Accept a model URI, a ``PyFuncModel``, an object with ``predict``, or a callable."""
    from mlflowx.models.load import PyFuncModel

    if isinstance(model, str | Path):
        from mlflowx.models.load import load_pyfunc_uri

        model = load_pyfunc_uri(str(model))
    if isinstance(model, PyFuncModel):
        raw = model.unwrap_python_model()
        return Predictor(model.predict, getattr(raw, "predict_proba", None), raw)
    if callable(getattr(model, "predict", None)):
        return Predictor(model.predict, getattr(model, "predict_proba", None), model)
    if callable(model):
        return Predictor(model, None, None)
    raise InvalidParameter(
        "model must be a model URI, a PyFuncModel, an object with a predict method or a "
        f"callable, got {type(model).__name__}"
    )


def model_outputs(raw_output: Any, n_rows: int, column: str | None) -> Any:
    """The model's predictions as one 1-D array; ``column`` picks one of several outputs."""
    import pandas as pd

    output = raw_output
    if isinstance(output, dict):
        output = pd.DataFrame(output)
    if isinstance(output, pd.DataFrame):
        cols = [str(c) for c in output.columns]
        if len(cols) == 1:
            output = output.iloc[:, 0]
        elif column is not None and column in output.columns:
            output = output[column]
        else:
            hint = (
                f"predictions={column!r} is not one of them"
                if column
                else "pass predictions=<column> to pick one"
            )
            raise InvalidParameter(f"The model returned several columns {cols}; {hint}")
    array = _column_vector(output, "The model's output")
    if len(array) != n_rows:
        raise InvalidParameter(f"The model returned {len(array)} predictions for {n_rows} rows")
    return array
