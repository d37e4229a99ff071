"""Saving a model directory: the one pipeline every flavor goes through.

Flavors only serialize their object; environment capture, input examples, signatures and the
MLmodel file are done here, once.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from copy import deepcopy
from pathlib import Path
from typing import Any

from mlflowx.exceptions import AlreadyExists, InvalidParameter
from mlflowx.models.code_paths import copy_code_paths
from mlflowx.models.env import distributions_for_modules, pinned, write_environment
from mlflowx.models.flavors import get_flavor
from mlflowx.models.mlmodel import MLMODEL_FILE, Model

__all__ = ["save_model"]


def _directory_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def save_model(
    flavor: str,
    model: Any,
    path: str | Path,
    *,
    signature: Any = None,
    input_example: Any = None,
    pip_requirements: list[str] | None = None,
    extra_pip_requirements: list[str] | None = None,
    metadata: dict[str, Any] | None = None,
    mlmodel: Model | None = None,
    code_paths: Sequence[str | Path] | None = None,
    **flavor_options: Any,
) -> Model:
    """Save ``model`` with ``flavor`` into the new directory ``path``; returns its MLmodel.

    Args:
        signature: a ModelSignature; inferred from ``input_example`` when omitted; ``False``
            for none.
        pip_requirements: replaces the inferred requirements.
        extra_pip_requirements: added to (or overriding pins of) the inferred ones.
        mlmodel: a pre-filled MLmodel (run id, model id, artifact path) to complete.
        code_paths: files and directories copied into the model's ``code`` directory, which
            loading puts on ``sys.path`` (with ``allow_code``), as MLflow does.
    """
    from mlflowx import __version__

    root = Path(path)
    if root.exists() and any(root.iterdir()):
        raise AlreadyExists(f"Path '{root}' already exists and is not empty")
    flavor_cls = get_flavor(flavor)
    if flavor_cls is None:
        raise InvalidParameter(f"Unknown flavor {flavor!r}")
    root.mkdir(parents=True, exist_ok=True)
    saved = flavor_cls().save(model, root, **flavor_options)
    code = copy_code_paths(code_paths, root)
    if code is not None:
        if saved.conf:
            saved.conf["code"] = code
        if saved.pyfunc_conf is not None:
            saved.pyfunc_conf["code"] = code

    info = mlmodel or Model()
    info.mlflowx_version = __version__
    if metadata:
        info.metadata = metadata
    if saved.conf:
        info.add_flavor(flavor, **saved.conf)
    if saved.pyfunc_conf is not None:
        info.add_flavor(
            "python_function",
            **saved.pyfunc_conf,
            env={"conda": "conda.yaml", "virtualenv": "python_env.yaml"},
            python_version=platform.python_version(),
        )

    if input_example is not None:
        from mlflowx.models.example import save_input_example

        info.saved_input_example_info = save_input_example(input_example, root)
    if signature is None and input_example is not None and saved.pyfunc_conf is not None:
        signature = _infer_from_example(info, root, input_example)
    if signature:
        info.signature = signature.to_dict()

    if pip_requirements is not None:
        requirements = list(pip_requirements)
    else:
        requirements = [pinned(d) for d in sorted(distributions_for_modules(saved.modules))]
        requirements += saved.requirements
    write_environment(root, requirements, extra_pip_requirements or ())
    info.save(root / MLMODEL_FILE)  # written before sizing, so the size counts it
    info.model_size_bytes = _directory_size(root)
    info.save(root / MLMODEL_FILE)
    return info


def _infer_from_example(info: Model, root: Path, example: Any) -> Any:
    """The signature of the original example, as MLflow's ``_infer_signature_from_input_example``.

    Types come from the data and params as given, not as read back from ``input_example.json``
    (JSON loses float32, int32, datetime and binary). The output schema comes from running the
    just-saved model on a copy of the data, checked against the input and param schemas first as
    ``predict`` checks it. Column inputs with a 1-D prediction get a single output column.
    """
    from mlflowx.models.example import split_input_example
    from mlflowx.models.load import load_pyfunc
    from mlflowx.models.signature import ModelSignature, infer_signature

    data, params = split_input_example(example)
    inputs_only = infer_signature(data, params=params)
    info.signature = inputs_only.to_dict()  # predict checks data and params against it
    info.save(root / MLMODEL_FILE)
    try:
        # The caller's own model, written a moment ago into a directory this call created
        # (empty before): loading it trusts nothing the caller did not just hand over.
        model = load_pyfunc(root, allow_pickle=True, allow_code=True, trusted_types=_declared(info))
        output = model.predict(deepcopy(data), deepcopy(params))
    except Exception as exc:  # the model may not accept its example: keep the input schema
        if os.environ.get("MLFLOWX_DEBUG"):
            raise
        del exc
        return inputs_only
    if output is None:
        return inputs_only
    if inputs_only.inputs and not inputs_only.inputs.is_tensor_spec():
        import numpy as np

        if isinstance(output, np.ndarray) and output.ndim == 1:
            # Column inputs with a 1-D prediction: one prediction per row, a single column.
            import pandas as pd

            output = pd.Series(output)
    outputs = infer_signature(model_output=output).outputs
    return ModelSignature(inputs_only.inputs, outputs, inputs_only.params)


def _declared(info: Model) -> list[str]:
    conf = next(iter(info.flavors.values()), {})
    return list(conf.get("skops_trusted_types") or [])
