"""Models: the MLmodel format, flavors, signatures, saving, loading and logging."""

from mlflowx.models.flavors.pyfunc import set_model
from mlflowx.models.mlmodel import Model
from mlflowx.models.uri import download_model

__all__ = ["Model", "download_model", "set_model"]


def __getattr__(name: str) -> object:
    # Signatures pull in nothing heavy, but keep `import mlflowx.models` minimal anyway.
    if name in ("ModelSignature", "infer_signature"):
        from mlflowx.models import signature

        return getattr(signature, name)
    if name in (
        "evaluate",
        "EvaluationResult",
        "MetricThreshold",
        "ModelValidationFailedError",
        "validate_evaluation_results",
    ):
        from mlflowx.models import evaluation

        return getattr(evaluation, name)
    if name in ("get_model_info", "set_signature", "update_model_requirements"):
        from mlflowx.models import edit

        return getattr(edit, name)
    if name == "convert_input_example_to_serving_input":
        from mlflowx.models.example import convert_input_example_to_serving_input

        return convert_input_example_to_serving_input
    if name in ("predict", "validate_serving_input"):
        # Scoring lives in mlflowx.serving (the layer above); MLflow offers these names here.
        from mlflowx.serving import predict

        return getattr(predict, name)
    if name == "ModelInfo":
        from mlflowx.models.logging import ModelInfo

        return ModelInfo
    raise AttributeError(name)
