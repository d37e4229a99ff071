"""The tracking server: MLflow's REST API on FastAPI + uvicorn."""

from mlflowx.server.app import create_app

__all__ = ["create_app"]
