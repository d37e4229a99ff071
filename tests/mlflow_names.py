"""MLflow's public API names, and the ones mlflowx leaves out, each with its reason.

Read by ``tests/test_public_api.py``: a name of MLflow's that mlflowx lacks must be listed
here, so a new MLflow release (or a dropped mlflowx name) fails the test until decided.
"""

from __future__ import annotations

import types

#: Public submodules that ``import mlflow`` loads eagerly (documented API modules; MLflow's
#: implementation modules such as ``mlflow.utils`` or ``mlflow.protos`` are not API).
MLFLOW_SUBMODULES = (
    "artifacts",
    "client",
    "config",
    "data",
    "entities",
    "exceptions",
    "genai",
    "models",
    "projects",
    "tracing",
    "tracking",
    "types",
)

_TRACING = "GenAI tracing: mlflowx has no traces (LLM/agent observability is out of scope)"
_ASSESS = "GenAI assessments (feedback/expectations on traces): mlflowx has no traces"
_PROMPT = "GenAI prompt registry: out of scope"
_GENAI_FLAVOR = "GenAI/LLM integration (tracing autolog for an LLM SDK): out of scope"
_FLAVOR = "a model flavor mlflowx does not have yet (issue #15)"
_WORKSPACE = "multi-tenant workspaces of MLflow's server: mlflowx has none"
_SYSMETRICS = "system metrics (CPU/GPU sampling during runs): not implemented in mlflowx"
_ACTIVE_MODEL = (
    "active-model context (links traces and GenAI agents to a logged model): mlflowx has no "
    "traces; pass model ids explicitly"
)

#: MLflow's top-level name -> why mlflowx does not provide it.
EXCLUDED: dict[str, str] = {
    # GenAI tracing
    "add_trace": _TRACING,
    "context": _TRACING,
    "delete_trace_tag": _TRACING,
    "flush_trace_async_logging": _TRACING,
    "get_active_trace_id": _TRACING,
    "get_current_active_span": _TRACING,
    "get_last_active_trace_id": _TRACING,
    "get_trace": _TRACING,
    "log_trace": _TRACING,
    "otel": _TRACING,
    "search_sessions": _TRACING,
    "search_traces": _TRACING,
    "set_trace_tag": _TRACING,
    "start_span": _TRACING,
    "start_span_no_context": _TRACING,
    "trace": _TRACING,
    "tracing": _TRACING,
    "update_current_trace": _TRACING,
    "delete_assessment": _ASSESS,
    "get_assessment": _ASSESS,
    "log_assessment": _ASSESS,
    "log_expectation": _ASSESS,
    "log_feedback": _ASSESS,
    "log_issue": _ASSESS,
    "override_feedback": _ASSESS,
    "update_assessment": _ASSESS,
    # GenAI prompts, gateway, evaluation of LLMs
    "delete_prompt_alias": _PROMPT,
    "load_prompt": _PROMPT,
    "register_prompt": _PROMPT,
    "search_prompts": _PROMPT,
    "set_prompt_alias": _PROMPT,
    "genai": "GenAI namespace (LLM evaluation, judges, prompts, datasets of traces): out of scope",
    "gateway": "LLM gateway (AI gateway routes to LLM providers): out of scope",
    "metrics": (
        "LLM-era metric builders and judges; mlflowx.evaluate computes classifier and "
        "regressor metrics itself"
    ),
    "test": "pytest decorator for GenAI evaluation of traces: out of scope",
    # active model (GenAI-oriented in MLflow 3)
    "ActiveModel": _ACTIVE_MODEL,
    "clear_active_model": _ACTIVE_MODEL,
    "get_active_model_id": _ACTIVE_MODEL,
    "set_active_model": _ACTIVE_MODEL,
    "create_external_model": _ACTIVE_MODEL + " (external models are GenAI apps' agents)",
    "import_checkpoints": "creates external models from training checkpoints (with the above)",
    # Databricks, workspaces, server config
    "login": "Databricks credential setup: Databricks-only",
    "create_workspace": _WORKSPACE,
    "delete_workspace": _WORKSPACE,
    "get_workspace": _WORKSPACE,
    "list_workspaces": _WORKSPACE,
    "set_workspace": _WORKSPACE,
    "update_workspace": _WORKSPACE,
    "config": (
        "MLflow's config module (URIs, system metrics, Databricks profiles); its URI functions "
        "are top-level mlflowx names"
    ),
    "disable_system_metrics_logging": _SYSMETRICS,
    "enable_system_metrics_logging": _SYSMETRICS,
    "set_system_metrics_node_id": _SYSMETRICS,
    "set_system_metrics_samples_before_logging": _SYSMETRICS,
    "set_system_metrics_sampling_interval": _SYSMETRICS,
    "doctor": "environment report: the CLI part of issue #13 adds `mlflowx doctor`",
    "Image": "step-indexed image logging (mlflow.Image, log_image(key=, step=)): not yet",
    # GenAI/LLM integrations (lazily loaded flavor modules of MLflow)
    **dict.fromkeys(
        (
            "ag2",
            "agno",
            "anthropic",
            "autogen",
            "bedrock",
            "crewai",
            "dspy",
            "gemini",
            "groq",
            "haystack",
            "langchain",
            "litellm",
            "llama_index",
            "mistral",
            "openai",
            "pydantic_ai",
            "semantic_kernel",
            "smolagents",
            "strands",
            "txtai",
        ),
        _GENAI_FLAVOR,
    ),
    "typesafe": "typed wrappers of MLflow's GenAI entry points: out of scope",
    # classic ML flavors mlflowx does not have yet
    **dict.fromkeys(
        (
            "catboost",
            "diffusers",
            "h2o",
            "johnsnowlabs",
            "paddle",
            "pmdarima",
            "prophet",
            "pyspark",
            "rfunc",
            "sentence_transformers",
            "shap",
            "spacy",
            "spark",
            "tensorflow",
            "transformers",
        ),
        _FLAVOR,
    ),
}

_C_PROMPT = "GenAI prompt registry: out of scope"
_C_TRACE = "GenAI tracing: mlflowx has no traces"
_C_MCP = "MCP server registry (GenAI tools): out of scope"
_C_DATASET = "GenAI evaluation datasets (of traces): out of scope"
_C_WEBHOOK = "registry webhooks: not implemented in mlflowx yet"

#: ``mlflow.tracking.MlflowClient`` method -> why ``mlflowx.MlflowClient`` lacks it.
CLIENT_EXCLUDED: dict[str, str] = {
    **dict.fromkeys(
        (
            "create_prompt",
            "create_prompt_version",
            "delete_prompt",
            "delete_prompt_alias",
            "delete_prompt_tag",
            "delete_prompt_version",
            "delete_prompt_version_tag",
            "detach_prompt_from_run",
            "get_prompt",
            "get_prompt_version",
            "get_prompt_version_by_alias",
            "link_prompt_version_to_model",
            "link_prompt_version_to_run",
            "link_prompt_versions_to_trace",
            "list_logged_prompts",
            "load_prompt",
            "parse_prompt_uri",
            "register_prompt",
            "search_prompt_versions",
            "search_prompts",
            "set_prompt_alias",
            "set_prompt_tag",
            "set_prompt_version_tag",
        ),
        _C_PROMPT,
    ),
    **dict.fromkeys(
        (
            "delete_trace_tag",
            "delete_traces",
            "end_span",
            "end_trace",
            "get_trace",
            "link_traces_to_run",
            "search_traces",
            "set_trace_tag",
            "start_span",
            "start_trace",
            "unlink_traces_from_run",
        ),
        _C_TRACE,
    ),
    **dict.fromkeys(
        (
            "create_mcp_access_endpoint",
            "create_mcp_server",
            "create_mcp_server_version",
            "delete_mcp_access_endpoint",
            "delete_mcp_server",
            "delete_mcp_server_alias",
            "delete_mcp_server_tag",
            "delete_mcp_server_version",
            "delete_mcp_server_version_tag",
            "get_latest_mcp_server_version",
            "get_mcp_access_endpoint",
            "get_mcp_server",
            "get_mcp_server_version",
            "get_mcp_server_version_by_alias",
            "refresh_mcp_server_version_tools",
            "search_mcp_access_endpoints",
            "search_mcp_server_versions",
            "search_mcp_servers",
            "set_mcp_server_alias",
            "set_mcp_server_tag",
            "set_mcp_server_version_tag",
            "update_mcp_access_endpoint",
            "update_mcp_server",
            "update_mcp_server_version",
        ),
        _C_MCP,
    ),
    **dict.fromkeys(
        (
            "add_dataset_to_experiments",
            "create_dataset",
            "delete_dataset",
            "delete_dataset_tag",
            "get_dataset",
            "remove_dataset_from_experiments",
            "search_datasets",
            "set_dataset_tags",
        ),
        _C_DATASET,
    ),
    **dict.fromkeys(
        (
            "create_webhook",
            "delete_webhook",
            "get_webhook",
            "list_webhooks",
            "test_webhook",
            "update_webhook",
        ),
        _C_WEBHOOK,
    ),
    **dict.fromkeys(
        (
            "create_workspace",
            "delete_workspace",
            "get_workspace",
            "get_workspace_store_uri",
            "list_workspaces",
            "update_workspace",
        ),
        "multi-tenant workspaces of MLflow's server: mlflowx has none",
    ),
}


_M_GENAI = "GenAI model configuration (agents' resources, retrievers, configs): out of scope"
#: ``mlflow.models`` name (its ``__all__``) -> why ``mlflowx.models`` lacks it.
MODELS_EXCLUDED: dict[str, str] = {
    "FlavorBackend": "MLflow's serving-backend base class: mlflowx serves through mlflowx.serving",
    "build_docker": "`mlflowx models build-docker` (the CLI, in mlflowx.serving) builds images",
    "infer_pip_requirements": "requirements are inferred when a model is saved, not on request",
    "make_metric": "custom evaluation metrics: mlflowx.evaluate computes its own set",
    "EvaluationMetric": "custom evaluation metrics: mlflowx.evaluate computes its own set",
    "EvaluationArtifact": "custom evaluator artifacts: mlflowx.evaluate has no plug-in evaluators",
    "list_evaluators": "plug-in evaluators: mlflowx.evaluate has one built-in evaluator",
    "set_retriever_schema": _M_GENAI,
    "Resource": _M_GENAI,
    "ResourceType": _M_GENAI,
    "ModelConfig": _M_GENAI,
    "ModelInputExample": "input examples are saved by log_model(input_example=...) directly",
    "validate_schema": "schemas are enforced when a pyfunc model predicts",
    "add_libraries_to_model": "bundles wheels of a registered model's dependencies: not yet",
}


def mlflow_models_names() -> set[str]:
    """``mlflow.models.__all__``."""
    import mlflow.models

    return set(mlflow.models.__all__)


def _lazy_flavor_names() -> set[str]:
    """The flavor modules ``import mlflow`` leaves to load lazily, read in a fresh interpreter:
    in this process, any test that touched ``mlflow.lightgbm`` has replaced its loader."""
    import json
    import subprocess
    import sys

    code = (
        "import json, warnings\n"
        "warnings.simplefilter('ignore')\n"
        "import mlflow\n"
        "from mlflow.utils.lazy_load import LazyLoader\n"
        "print(json.dumps(sorted(n for n, v in vars(mlflow).items()"
        " if isinstance(v, LazyLoader))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def mlflow_public_names() -> set[str]:
    """``mlflow.__all__``, the flavor modules MLflow loads lazily, and its API submodules."""
    import mlflow

    lazy = _lazy_flavor_names()
    modules = {n for n in MLFLOW_SUBMODULES if isinstance(getattr(mlflow, n), types.ModuleType)}
    assert modules == set(MLFLOW_SUBMODULES)  # MLflow still has them all
    return set(mlflow.__all__) | lazy | modules


def mlflow_client_methods() -> set[str]:
    """The public methods and properties of ``mlflow.tracking.MlflowClient``."""
    from mlflow.tracking import MlflowClient

    return {n for n in dir(MlflowClient) if not n.startswith("_")}
