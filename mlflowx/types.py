"""MLflow's ``mlflow.types``: the schema types of model signatures."""

from mlflowx.models.schema import ColSpec, DataType, ParamSchema, ParamSpec, Schema, TensorSpec

__all__ = ["ColSpec", "DataType", "ParamSchema", "ParamSpec", "Schema", "TensorSpec"]
