"""Scoring outside a server: ``mlflowx.models.predict`` and ``validate_serving_input``
(MLflow's names), and the ``mlflowx models predict`` CLI, which all read a request the way the
scoring server reads ``/invocations`` and predict in this process."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from mlflowx.exceptions import InvalidParameter
from mlflowx.serving.scoring.parsing import loads_json, parse_csv, parse_json

__all__ = ["predict", "score", "validate_serving_input"]


def _model(model_uri: str, allow_pickle: bool | None, allow_code: bool | None) -> Any:
    from mlflowx.pyfunc import load_model

    # None leaves the choice to the environment (MLFLOWX_ALLOW_*).
    return load_model(model_uri, allow_pickle=allow_pickle, allow_code=allow_code)


def score(model: Any, body: Any, kind: str = "json") -> tuple[Any, bool]:
    """Predict a request body (JSON text or object in MLflow's serving format, or CSV text or
    a file); returns (predictions, whether the request asked for unwrapped output)."""
    signature = model.signature
    schema = signature.inputs if signature is not None else None
    params_schema = signature.params if signature is not None else None
    if kind == "csv":
        return model.predict(parse_csv(body, schema)), False
    payload = loads_json(body) if isinstance(body, str | bytes) else body
    parsed = parse_json(payload, schema, params_schema)
    return model.predict(parsed.data, params=parsed.params), parsed.unwrapped


def check_env_manager(env_manager: str | None, option: str = "env_manager") -> None:
    """Refuse MLflow's environment managers other than ``local``: mlflowx predicts and
    serves in the current environment, and model images carry a model's own requirements."""
    if env_manager not in (None, "local"):
        raise InvalidParameter(
            f"{option} {env_manager!r} is not supported: mlflowx runs models in the current "
            "environment ('local'); build an image (mlflowx models build-docker) to run a model "
            "with its own requirements"
        )


def validate_serving_input(
    model_uri: str,
    serving_input: str | dict[str, Any],
    *,
    allow_pickle: bool | None = None,
    allow_code: bool | None = None,
) -> Any:
    """Check that the model at ``model_uri`` can answer ``serving_input`` (an ``/invocations``
    body, as text or a dict) as the scoring server would, and return its predictions."""
    model = _model(model_uri, allow_pickle, allow_code)
    return score(model, serving_input)[0]


def predict(
    model_uri: str,
    input_data: Any = None,
    input_path: str | Path | None = None,
    content_type: str = "json",
    output_path: str | Path | None = None,
    env_manager: str | None = "local",
    install_mlflow: bool = False,
    pip_requirements_override: list[str] | None = None,
    extra_envs: dict[str, str] | None = None,
    *,
    allow_pickle: bool | None = None,
    allow_code: bool | None = None,
) -> None:
    """Predict with the model at ``model_uri`` and write the predictions as JSON
    (``{"predictions": ...}``) to ``output_path``, else stdout, as MLflow's function does.

    ``input_data`` is any input the pyfunc model takes (a DataFrame, array, dict...), or an
    ``/invocations`` body as text; ``input_path`` a file of such a body (``content_type`` json)
    or CSV (``csv``). MLflow's options for running in another environment (``env_manager``
    other than ``local``, ``install_mlflow``, ``pip_requirements_override``, ``extra_envs``)
    are refused: mlflowx predicts here, and model images run a model with its own requirements.
    """
    from mlflowx.serving.scoring.output import predictions_json

    check_env_manager(env_manager)
    if install_mlflow or pip_requirements_override or extra_envs:
        raise InvalidParameter(
            "install_mlflow, pip_requirements_override and extra_envs prepare another "
            "environment: mlflowx predicts in this one (env_manager='local')"
        )
    if content_type not in ("json", "csv"):
        raise InvalidParameter(f"content_type must be 'json' or 'csv', got {content_type!r}")
    if (input_data is None) == (input_path is None):
        raise InvalidParameter("Give exactly one of input_data and input_path")
    model = _model(model_uri, allow_pickle, allow_code)
    unwrapped = False
    if input_path is not None:
        path = Path(input_path)
        if not path.is_file():
            raise InvalidParameter(f"No input file at {path}")
        body = path.read_bytes() if content_type == "json" else path
        raw, unwrapped = score(model, body, content_type)
    elif isinstance(input_data, str | bytes):
        raw, unwrapped = score(model, input_data)
    else:
        raw = model.predict(input_data)
    text = predictions_json(raw, wrap=not unwrapped).decode()
    if output_path is None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    else:
        Path(output_path).write_text(text)
