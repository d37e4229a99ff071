"""Model signature types: what a model accepts and returns, in MLflow's MLmodel format.

A :class:`ModelSignature` holds an input and an output :class:`Schema` (columns or tensors) and a
:class:`ParamSchema` for inference parameters. ``to_dict()`` gives exactly the dict of JSON strings
MLflow stores in the ``signature:`` section of an MLmodel file, and ``from_dict()`` reads the ones
MLflow writes. Inference lives in :mod:`mlflowx.models.signature`, enforcement in
:mod:`mlflowx.models.enforce`.

The package splits along three seams: :mod:`~mlflowx.models.schema.coltypes` (the column types),
the specs in :mod:`~mlflowx.models.schema.specs` and the value checks in
:mod:`~mlflowx.models.schema.values` (``_check_param``, ``_enforce_value``, ``_enforce_column``,
re-exported here for :mod:`~mlflowx.models.enforce` and the scoring server). pandas and numpy are
imported only when data of theirs is handled.
"""

from mlflowx.models.schema.coltypes import (
    AnyType,
    Array,
    ColType,
    DataType,
    Map,
    Object,
    Property,
)
from mlflowx.models.schema.specs import (
    ColSpec,
    ModelSignature,
    ParamSchema,
    ParamSpec,
    Schema,
    TensorSpec,
)
from mlflowx.models.schema.specs import _check_param as _check_param
from mlflowx.models.schema.specs import _clean_tensor_dtype as _clean_tensor_dtype
from mlflowx.models.schema.values import _enforce_column as _enforce_column
from mlflowx.models.schema.values import _enforce_value as _enforce_value

__all__ = [
    "AnyType",
    "Array",
    "ColSpec",
    "ColType",
    "DataType",
    "Map",
    "ModelSignature",
    "Object",
    "ParamSchema",
    "ParamSpec",
    "Property",
    "Schema",
    "TensorSpec",
]
