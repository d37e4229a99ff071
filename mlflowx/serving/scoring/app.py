"""The scoring server: MLflow's ``/invocations`` protocol on FastAPI.

The model is loaded once per worker when the app starts, before the worker accepts
connections (so with several workers no request reaches one that is still loading). If the load
fails the worker still starts, logs why, and answers 503 with the reason on ``/health``,
``/ping`` and ``/invocations``, so a health check sees the failure instead of a restart loop.
``background=True`` loads in a thread instead, answering 503 ``loading`` meanwhile (for an
embedding app that must answer health checks during a slow load). ``/invocations`` is a plain
Starlette route (no FastAPI dependency solving on the hot path); small requests are predicted
on the event loop, larger ones in a worker thread under the request timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from mlflowx.exceptions import BadRequest, InternalError, MlflowxError
from mlflowx.models.load import PyFuncModel
from mlflowx.serving.scoring.config import (
    ENV_ALLOWED_HOSTS,
    ENV_CORS_ORIGINS,
    ENV_MODEL_URI,
    ScoringConfig,
)
from mlflowx.serving.scoring.errors import ModelNotReady, PayloadTooLarge
from mlflowx.serving.scoring.fastpath import FastPath, sklearn_fast_path
from mlflowx.serving.scoring.fastpath_gbm import gbm_fast_path
from mlflowx.serving.scoring.fastpath_statsmodels import statsmodels_fast_path
from mlflowx.serving.scoring.fastpath_tensor import tensor_fast_path
from mlflowx.serving.scoring.output import predictions_json, to_json_bytes
from mlflowx.serving.scoring.parsing import (
    CSV,
    JSON,
    ParsedRequest,
    loads_json,
    media_type,
    parse_csv,
    parse_json,
    parse_parquet,
)
from mlflowx.utils.http_security import HttpPolicy, HttpSecurity

__all__ = ["ScoringApp", "ScoringState", "app_from_env", "create_scoring_app", "model_metadata"]

log = logging.getLogger("mlflowx.serving")
_JSON = "application/json"
#: Set to 0 to send every request through the general path (for comparisons and debugging).
ENV_FAST_PATH = "MLFLOWX_SCORING_FAST_PATH"


def model_metadata(model: PyFuncModel, model_uri: str | None) -> dict[str, Any]:
    """What ``/metadata`` answers: the model's identity, flavors and signature."""
    import json

    meta = model.metadata
    signature = None
    if meta.signature:
        signature = {
            k: (json.loads(v) if isinstance(v, str) else v) for k, v in meta.signature.items()
        }
    return {
        "model_uri": model_uri,
        "model_uuid": meta.model_uuid,
        "model_id": meta.model_id,
        "run_id": meta.run_id,
        "artifact_path": meta.artifact_path,
        "utc_time_created": meta.utc_time_created,
        "flavors": meta.flavors,
        "signature": signature,
        "registered_model": _registered_version(model_uri),
        "mlflow_version": meta.mlflow_version,
        "mlflowx_version": meta.mlflowx_version,
    }


def _registered_version(model_uri: str | None) -> dict[str, Any] | None:
    """``{"name", "version"}`` when the URI names a registered model version (best effort:
    resolving an alias or stage needs the registry, which may be unreachable)."""
    if not model_uri or not model_uri.startswith("models:/"):
        return None
    from mlflowx.utils.uri import parse_model_uri

    try:
        ref = parse_model_uri(model_uri)
        if ref.name is None:
            return None
        info: dict[str, Any] = {"name": ref.name, "version": ref.version}
        if ref.alias is not None:
            info["alias"] = ref.alias
        if ref.version is None:
            from mlflowx.registry.uri import resolve_parsed
            from mlflowx.tracking.client import MlflowxClient

            info["version"] = resolve_parsed(ref, model_uri, MlflowxClient())[1]
        return info
    except Exception as e:  # metadata only: never fail serving for it
        log.debug("Could not resolve the registered version of %s: %s", model_uri, e)
        return None


class ScoringState:
    """The model one worker serves, and whether it is loaded yet.

    ``allow_pickle`` and ``allow_code`` are the load policy for a model given by URI (``None``:
    the environment decides, as in :func:`mlflowx.pyfunc.load_model`).
    """

    def __init__(
        self,
        model: PyFuncModel | str | Path,
        config: ScoringConfig,
        *,
        allow_pickle: bool | None = None,
        allow_code: bool | None = None,
    ) -> None:
        self.config = config
        self.allow_pickle, self.allow_code = allow_pickle, allow_code
        self.model: PyFuncModel | None = None
        self.model_uri: str | None = None
        self.error: str | None = None
        self.metadata: dict[str, Any] = {}
        self.schema: Any = None
        self.param_schema: Any = None
        self.fast: FastPath | None = None
        self._loader: threading.Thread | None = None
        if isinstance(model, PyFuncModel):
            self._ready(model, str(model.path))
        else:
            self.model_uri = str(model)

    def _ready(self, model: PyFuncModel, uri: str | None) -> None:
        signature = model.signature
        self.schema = signature.inputs if signature is not None else None
        self.param_schema = signature.params if signature is not None else None
        self.metadata = model_metadata(model, uri)
        if os.environ.get(ENV_FAST_PATH, "1").strip().lower() not in ("0", "false", "no"):
            self.fast = (
                sklearn_fast_path(model)
                or gbm_fast_path(model)
                or tensor_fast_path(model)
                or statsmodels_fast_path(model)
            )
        self.model_uri = uri
        self.model = model  # last: requests see a model only once everything is set

    def start_loading(self) -> None:
        if self.model is not None or self._loader is not None:
            return
        self._loader = threading.Thread(target=self.load, name="mlflowx-model-loader", daemon=True)
        self._loader.start()

    def load(self) -> None:
        from mlflowx.pyfunc import load_model

        uri = self.model_uri or ""
        started = time.monotonic()
        log.info("Loading model %s", uri)
        try:
            model = load_model(uri, allow_pickle=self.allow_pickle, allow_code=self.allow_code)
            self._ready(model, uri)
        except Exception as e:
            self.error = f"{type(e).__name__}: {e}"
            log.error("Failed to load model %s: %s", uri, self.error)
            return
        log.info("Model %s loaded in %.2fs; ready", uri, time.monotonic() - started)

    def health(self) -> tuple[int, dict[str, Any]]:
        if self.model is not None:
            return 200, {"status": "ok"}
        if self.error is not None:
            return 503, {"status": "failed", "model_uri": self.model_uri, "error": self.error}
        return 503, {"status": "loading", "model_uri": self.model_uri}


def _too_large(size: int, limit: int, at_least: bool = False) -> str:
    more = "at least " if at_least else ""
    return (
        f"The request body ({more}{size} bytes) is over the limit of {limit} bytes; split the "
        "batch, or raise MLFLOWX_SCORING_MAX_BODY_MB"
    )


def _predict(model: PyFuncModel | FastPath, parsed: ParsedRequest) -> bytes:
    try:
        if isinstance(model, FastPath):
            raw = model.predict(parsed.data)
        else:
            raw = model.predict(parsed.data, params=parsed.params)
    except MlflowxError:
        raise  # schema enforcement: names the column and what is wrong
    except Exception as e:
        # As MLflow: an error raised by the model is most often an input it cannot take.
        log.warning("The model raised %s", type(e).__name__, exc_info=True)
        raise BadRequest(
            f"The model raised {type(e).__name__} while predicting: {e}. Check that the input "
            "matches what the model expects (its signature is at /metadata)."
        ) from None
    try:
        return predictions_json(raw, wrap=not parsed.unwrapped)
    except Exception as e:
        log.error("Cannot serialize the predictions", exc_info=True)
        raise InternalError(
            f"The model returned {type(raw).__name__}, which cannot be written as JSON: {e}"
        ) from None


def _handle(state: ScoringState, body: bytes, content_type: str | None) -> bytes:
    model = state.model
    assert model is not None
    mime = media_type(content_type)
    if mime == JSON:
        payload = loads_json(body)
        fast = state.fast
        if fast is not None and type(payload) is dict and len(payload) == 1:
            key, value = next(iter(payload.items()))
            array = fast.rows(key, value)
            if array is not None:
                return _predict(fast, ParsedRequest(array))
        parsed = parse_json(payload, state.schema, state.param_schema)
    elif mime == CSV:
        parsed = ParsedRequest(parse_csv(body, state.schema))
    else:
        parsed = ParsedRequest(parse_parquet(body))
    return _predict(model, parsed)


class _Disconnected(Exception):
    """The client went away before sending the whole body."""


async def _receive_body(receive: Receive, limit: int) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(_too_large(size, limit, at_least=True))
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _error_body(exc: MlflowxError) -> tuple[int, bytes]:
    return exc.http_status, to_json_bytes(exc.to_payload())


async def _score(state: ScoringState, scope: Scope, receive: Receive) -> tuple[int, bytes]:
    """Status and JSON body for one ``/invocations`` request."""
    config = state.config
    if state.model is None:
        status = "failed to load" if state.error else "still loading"
        return _error_body(ModelNotReady(f"The model is {status}; see /health"))
    try:
        if scope["method"] != "POST":
            return 405, to_json_bytes(
                {"error_code": "BAD_REQUEST", "message": "/invocations takes POST requests"}
            )
        headers = dict(scope["headers"])
        raw_type = headers.get(b"content-type")
        content_type = raw_type.decode("latin-1") if raw_type is not None else None
        media_type(content_type)  # 415 before reading the body
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > config.max_body_bytes:
            raise PayloadTooLarge(_too_large(int(declared), config.max_body_bytes))
        body = await _receive_body(receive, config.max_body_bytes)
        if len(body) <= config.inline_max_bytes:
            return 200, _handle(state, body, content_type)
        content = await asyncio.wait_for(
            asyncio.to_thread(_handle, state, body, content_type), config.timeout
        )
        return 200, content
    except MlflowxError as e:
        return _error_body(e)
    except TimeoutError:
        return 504, to_json_bytes(
            {
                "error_code": "DEADLINE_EXCEEDED",
                "message": f"The prediction took longer than {config.timeout:g}s "
                "(MLFLOWX_SCORING_SERVER_REQUEST_TIMEOUT)",
            }
        )
    except Exception as e:
        log.exception("Unexpected error while scoring")
        return _error_body(InternalError(f"Unexpected error while scoring: {e}"))


class ScoringApp(FastAPI):
    """The scoring server's app: ``/invocations``, the hot path, is answered as plain ASGI
    ahead of FastAPI's middleware and router (no per-request Request/Response objects or
    exception layers); every other route goes through FastAPI."""

    scoring: ScoringState
    #: Host/origin checks and security headers in front of everything (``http_security``).
    guarded: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.guarded is None:
            self.guarded = HttpSecurity(self._dispatch, HttpPolicy(allowed_hosts=None))
        await self.guarded(scope, receive, send)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path, root = scope["path"], scope.get("root_path", "")
            if root and path.startswith(root):
                path = path[len(root) :]
            if path == "/invocations":
                try:
                    status, content = await _score(self.scoring, scope, receive)
                except _Disconnected:
                    return
                await send(
                    {
                        "type": "http.response.start",
                        "status": status,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", b"%d" % len(content)),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": content})
                return
        await super().__call__(scope, receive, send)


def create_scoring_app(
    model: PyFuncModel | str | Path,
    *,
    config: ScoringConfig | None = None,
    background: bool = False,
    http_policy: HttpPolicy | None = None,
    allow_pickle: bool | None = None,
    allow_code: bool | None = None,
) -> ScoringApp:
    """The scoring server's ASGI app for a model URI (loaded when the app starts) or an
    already loaded :class:`~mlflowx.pyfunc.PyFuncModel`.

    Routes: ``POST /invocations`` (MLflow's scoring protocol), ``GET /ping`` and ``/health``
    (200 once the model is loaded, else 503 with ``loading`` or ``failed`` and the reason),
    ``/version`` and ``/metadata``.

    A model URI loads safely by default: a model that would unpickle or run its own code
    fails to load (``/health`` answers 503 with the reason) unless allowed.

    Args:
        background: load the model in a thread after startup instead of during it.
        http_policy: allowed Host names and CORS origins (``None``: no Host check, for
            in-process clients); security headers are always sent.
        allow_pickle: load the model's pickle files (default:
            ``MLFLOWX_ALLOW_PICKLE_DESERIALIZATION``).
        allow_code: run the model's own Python (models from code, ``code_paths``; default:
            ``MLFLOWX_ALLOW_MODEL_CODE``).
    """
    from mlflowx import __version__

    config = config or ScoringConfig.from_env()
    state = ScoringState(model, config, allow_pickle=allow_pickle, allow_code=allow_code)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if background:
            state.start_loading()
        elif state.model is None:
            await asyncio.to_thread(state.load)
        yield

    app = ScoringApp(
        title="mlflowx scoring server",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.scoring = app.state.scoring = state
    app.guarded = HttpSecurity(app._dispatch, http_policy or HttpPolicy(allowed_hosts=None))

    async def ping(_: Request) -> Response:
        status, body = state.health()
        if status == 200:
            return Response("\n", media_type=_JSON)  # MLflow answers a bare newline
        return JSONResponse(body, status_code=status)

    app.add_route("/ping", ping, methods=["GET"])
    app.add_route("/health", ping, methods=["GET"])

    async def version(_: Request) -> Response:
        return Response(__version__, media_type=_JSON)

    app.add_route("/version", version, methods=["GET"])

    async def metadata(_: Request) -> Response:
        if state.model is None:
            status, body = state.health()
            return JSONResponse(body, status_code=status)
        return JSONResponse(state.metadata)

    app.add_route("/metadata", metadata, methods=["GET"])
    return app


def app_from_env() -> FastAPI:
    """The app factory uvicorn calls in each worker: the model URI comes from
    ``MLFLOWX_SERVING_MODEL_URI``, the load policy from ``MLFLOWX_ALLOW_PICKLE_DESERIALIZATION``
    and ``MLFLOWX_ALLOW_MODEL_CODE`` (``mlflowx models serve --allow-pickle/--allow-code`` set
    them for its workers)."""
    uri = os.environ.get(ENV_MODEL_URI)
    if not uri:
        raise InternalError(f"{ENV_MODEL_URI} is not set: it names the model to serve")
    _log_to_stderr()
    hosts = os.environ.get(ENV_ALLOWED_HOSTS)
    policy = HttpPolicy.of(
        None if hosts is None else [hosts], [os.environ.get(ENV_CORS_ORIGINS, "")]
    )
    return create_scoring_app(uri, http_policy=policy)


def _log_to_stderr() -> None:
    logger = logging.getLogger("mlflowx")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     [%(name)s] %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(os.environ.get("MLFLOWX_LOG_LEVEL", "INFO").upper())
