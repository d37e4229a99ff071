"""The keyword options every flavor's ``save_model`` and ``log_model`` take, declared once.

Each flavor module adds its own options (``serialization_format``, ``model_format`` ...) and
passes these through with ``**options: Unpack[SaveOptions]`` (or ``LogOptions``): type checkers
and editors see every name with its type, as in MLflow's explicit signatures, and the flavors do
not repeat them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypedDict

__all__ = ["LogOptions", "SaveOptions"]


class SaveOptions(TypedDict, total=False):
    """Options of the one save pipeline (:func:`mlflowx.models.save.save_model`)."""

    #: A ModelSignature; inferred from ``input_example`` when omitted; ``False`` for none.
    signature: Any
    #: An example input, saved with the model (and the source of an inferred signature).
    input_example: Any
    #: Replaces the inferred requirements.
    pip_requirements: list[str] | None
    #: Added to (or overriding pins of) the inferred requirements.
    extra_pip_requirements: list[str] | None
    #: User metadata written to the MLmodel file.
    metadata: dict[str, Any] | None
    #: Files and folders copied into the model's ``code`` folder, put on ``sys.path`` at load
    #: (loading then needs ``allow_code``), as MLflow does.
    code_paths: Sequence[str | Path] | None


class LogOptions(SaveOptions, total=False):
    """``SaveOptions`` plus what logging adds (:func:`mlflowx.models.logging.log_model`)."""

    artifact_path: str | None
    registered_model_name: str | None
    params: dict[str, Any] | None
    tags: dict[str, Any] | None
    model_type: str | None
    step: int
