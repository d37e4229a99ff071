"""The only place that turns exceptions into HTTP responses (MLflow's JSON error body)."""

from __future__ import annotations

import errno
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from mlflowx.exceptions import MlflowxError
from mlflowx.utils.validation import exceeds_maximum_length, invalid_value

log = logging.getLogger("mlflowx.server")

#: File-system errors an artifact path in a request causes: a name too long, a path through a
#: file, or a file where a directory is (and the other way round).
_CALLER_ERRNOS = frozenset({errno.ENAMETOOLONG, errno.EEXIST, errno.ENOTDIR, errno.EISDIR})
_SEE_DOCS = " See the API docs for more information about request parameters."


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    text = ""
    for p in parts:
        text += f"[{p}]" if p.isdigit() else (f".{p}" if text else p)
    return text or "request"


def validation_message(exc: RequestValidationError) -> tuple[str, str]:
    """(error code, message) for a request that did not match its schema."""
    errors = exc.errors()
    first = errors[0] if errors else {}
    kind = str(first.get("type", ""))
    if kind == "json_invalid":
        return "MALFORMED_REQUEST", f"Malformed JSON in request body: {first.get('msg', '')}"
    if tuple(first.get("loc", ())) == ("body",):
        if kind == "missing":  # no body, or JSON null
            return "INVALID_PARAMETER_VALUE", "Missing request body: expected a JSON object"
        # JSON that is not an object, or a body not sent as application/json.
        return (
            "MALFORMED_REQUEST",
            "The request body must be a JSON object, sent with Content-Type: application/json",
        )
    where = _location(tuple(first.get("loc", ())))
    # MLflow's wording: an empty required string is a missing one, a long one "exceeds", a
    # value of the wrong JSON type gets a hint naming its type.
    if kind == "missing" or (kind == "string_too_short" and first.get("input") == ""):
        return "INVALID_PARAMETER_VALUE", (
            f"Missing value for required parameter '{where}'.{_SEE_DOCS}"
        )
    if kind.endswith(("_type", "_parsing")):
        value = first.get("input")
        hint = f" Hint: Value was of type '{type(value).__name__}'."
        return "INVALID_PARAMETER_VALUE", invalid_value(where, value, hint) + _SEE_DOCS
    if kind == "string_too_long":
        limit = int((first.get("ctx") or {}).get("max_length", 0))
        return "INVALID_PARAMETER_VALUE", exceeds_maximum_length(where, limit)
    value = first.get("input")
    shown = repr(value) if not isinstance(value, dict | list) else type(value).__name__
    if len(shown) > 100:
        shown = shown[:97] + "..."
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return (
        "INVALID_PARAMETER_VALUE",
        f"Invalid value {shown} for parameter '{where}' supplied: {first.get('msg', '')}{more}",
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(MlflowxError)
    async def _mlflowx_error(_: Request, exc: MlflowxError) -> JSONResponse:
        return JSONResponse(exc.to_payload(), status_code=exc.http_status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        code, message = validation_message(exc)
        return JSONResponse({"error_code": code, "message": message}, status_code=400)

    @app.exception_handler(OSError)
    async def _os_error(request: Request, exc: OSError) -> JSONResponse:
        # Artifact paths become file paths: these failures are the request's, not the server's.
        # The message leaves out the file name, which would show the server's directories.
        if exc.errno in _CALLER_ERRNOS:
            return JSONResponse(
                {
                    "error_code": "INVALID_PARAMETER_VALUE",
                    "message": f"The path in the request cannot be used: {exc.strerror}",
                },
                status_code=400,
            )
        return _internal_error(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            body = {
                "error_code": "ENDPOINT_NOT_FOUND",
                "message": f"No endpoint {request.url.path}",
            }
        elif exc.status_code == 405:
            body = {
                "error_code": "BAD_REQUEST",
                "message": f"Method {request.method} is not allowed on {request.url.path}",
            }
        elif exc.status_code == 413:  # limits.BodyLimit
            body = {"error_code": "INVALID_PARAMETER_VALUE", "message": str(exc.detail)}
        elif exc.status_code == 400:  # FastAPI could not read the body (e.g. not UTF-8)
            body = {"error_code": "MALFORMED_REQUEST", "message": str(exc.detail)}
        else:
            body = {"error_code": "BAD_REQUEST", "message": str(exc.detail)}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return _internal_error(request, exc)


def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("Unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(
        {"error_code": "INTERNAL_ERROR", "message": f"Internal error: {type(exc).__name__}"},
        status_code=500,
    )
