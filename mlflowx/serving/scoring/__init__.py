"""The scoring server (MLflow's ``/invocations`` protocol): app, request parsing, responses.

Imports only what the ``serving`` extra installs (pandas, FastAPI, uvicorn, scikit-learn,
skops): no SQL, no Prefect.
"""

from __future__ import annotations

from mlflowx.serving.scoring.app import app_from_env, create_scoring_app, model_metadata
from mlflowx.serving.scoring.config import ScoringConfig
from mlflowx.serving.scoring.output import predictions_json
from mlflowx.serving.scoring.parsing import ParsedRequest, parse_csv, parse_json, parse_request

__all__ = [
    "ParsedRequest",
    "ScoringConfig",
    "app_from_env",
    "create_scoring_app",
    "model_metadata",
    "parse_csv",
    "parse_json",
    "parse_request",
    "predictions_json",
]
