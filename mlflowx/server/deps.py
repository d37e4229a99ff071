"""Request-scoped access to the server's stores, and the router class every resource uses."""

from __future__ import annotations

import email.message
import functools
import re
from collections.abc import Callable, Iterator
from typing import Annotated, Any, ParamSpec, TypeVar

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from mlflowx.entities import Metric
from mlflowx.exceptions import InvalidParameter
from mlflowx.store.tracking.base import TrackingStore

P = ParamSpec("P")
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

_EMPTY_JSON = b"{}"


async def reject_nul_characters(request: Request) -> None:
    """Refuse NUL characters in path, query and JSON body values.

    PostgreSQL cannot store them (SQLite can), and the API answers the same on every backend.
    Bodies are checked only when their bytes hold an escaped NUL (JSON cannot carry a raw one);
    FastAPI has already read and parsed them, so this costs one byte search per request.
    """
    found = any("\x00" in v for v in request.path_params.values()) or (
        b"%00" in request.scope["query_string"]
        and any("\x00" in v for _, v in request.query_params.multi_items())
    )
    if not found and request.method != "GET" and b"\\u0000" in await request.body():
        try:
            found = _holds_nul(await request.json())
        except (ValueError, RecursionError):
            return  # not JSON (or nested past the parser's limit): the body's validation answers
    if found:
        raise InvalidParameter("Request values must not contain NUL (\\u0000) characters")


#: A JSON escape of a UTF-16 surrogate (``\\ud800``-``\\udfff``): only a pair of them is text.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


async def reject_lone_surrogates(request: Request) -> None:
    """Refuse values holding a lone UTF-16 surrogate (JSON ``"\\ud800"``), naming the field.

    JSON may escape one, and Python's parser keeps it, but no database, log or response can
    encode it as UTF-8. Bodies are parsed again only when their bytes hold such an escape (a
    valid pair, such as an escaped emoji, is one character once parsed and passes).
    """
    where = next(
        (f"path parameter {k!r}" for k, v in request.path_params.items() if _lone(v)), None
    ) or next(
        (f"query parameter {k!r}" for k, v in request.query_params.multi_items() if _lone(v)),
        None,
    )
    if where is None and request.method != "GET":
        body = await request.body()
        if _SURROGATE_ESCAPE.search(body):
            try:
                found = _surrogate_at(await request.json())
            except (ValueError, RecursionError):
                return  # not JSON: the body's own validation answers
            if found is not None:
                where = f"field {found!r}"
    if where is not None:
        raise InvalidParameter(
            f"The {where} holds a lone UTF-16 surrogate (\\ud800-\\udfff), which is not valid "
            "Unicode text: send the character itself, or its full surrogate pair"
        )


def _lone(value: object) -> bool:
    return isinstance(value, str) and _LONE_SURROGATE.search(value) is not None


def _strings(value: Any) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every string in parsed JSON (object keys too) with where it is, in document order.

    Iterative: a body nested as deep as the JSON parser allows must not exhaust the stack here.
    """
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), value)]
    while stack:
        at, item = stack.pop()
        if isinstance(item, str):
            yield at, item
        elif isinstance(item, dict):
            children: list[tuple[tuple[str | int, ...], Any]] = []
            for key, child in item.items():
                children += [((*at, key), key), ((*at, key), child)]
            stack.extend(reversed(children))
        elif isinstance(item, list):
            stack.extend(reversed([((*at, i), child) for i, child in enumerate(item)]))


def _surrogate_at(value: Any) -> str | None:
    """Where the first string holding a lone surrogate is (``tags[0].value``), if any."""
    for at, text in _strings(value):
        if _lone(text):
            where = ""
            for part in at:
                if isinstance(part, int):
                    where += f"[{part}]"
                else:
                    part = part.encode("utf-8", "backslashreplace").decode()
                    where += f".{part}" if where else part
            return (where[:200] + "...") if len(where) > 200 else where or "body"
    return None


def _holds_nul(value: Any) -> bool:
    return any("\x00" in text for _, text in _strings(value))


def tracking_store(request: Request) -> TrackingStore:
    store: TrackingStore = request.app.state.tracking_store
    return store


# ``async`` so that FastAPI calls it inline instead of through its threadpool.
async def _tracking_store(request: Request) -> TrackingStore:
    return tracking_store(request)


Store = Annotated[TrackingStore, Depends(_tracking_store)]


class WireRouter(APIRouter):
    """Responses leave out unset fields, as protobuf's JSON does (no ``"end_time": null``)."""

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        kwargs["response_model_exclude_none"] = True
        kwargs["response_model_by_alias"] = True
        super().add_api_route(path, endpoint, **kwargs)


def require(value: str | None, name: str) -> str:
    """MLflow's message for a required field that is absent or empty."""
    if not value:
        raise InvalidParameter(
            f"Missing value for required parameter '{name}'. See the API docs for more "
            "information about request parameters."
        )
    return value


async def write(request: Request, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a short store write for an ``async`` endpoint.

    On SQLite (``store.inline_writes``) the write runs right here on the event loop: a commit
    takes a fraction of a millisecond, one thread then makes every write of the process, so
    writers never wait for each other in SQLite's busy handler, and no thread hop is paid.
    Other databases answer over the network and take concurrent writers: there the write goes
    to the threadpool so the event loop stays free.
    """
    if request.app.state.inline_writes:
        return fn(*args, **kwargs)
    limiter = request.app.state.write_limiter
    if limiter is None:
        return await run_in_threadpool(fn, *args, **kwargs)
    # At most one write per pooled connection at a time: the others wait here, on the event
    # loop, rather than in threads blocked on the pool (or in overflow connections that are
    # opened and closed for each request).
    return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs), limiter=limiter)


async def write_metric(request: Request, run_id: str, metric: Metric) -> None:
    """``log_metric`` for the ``log-metric`` route: on the event loop when the store says it is
    one short statement (``inline_metric_writes``), else as any other write (:func:`write`).

    On PostgreSQL it is one autocommit statement: a round trip of well under a millisecond that
    holds no lock once it returns and never waits for the event loop, so running it on the loop
    cannot deadlock. Handing it to a thread cost more CPU than the write itself: the thread
    switch, the GIL passed back and forth and the loop woken up took ~0.7 ms of the ~2 ms of
    server CPU per request (measured in-process on the 2-core bench machine).
    """
    store = tracking_store(request)
    if store.inline_metric_writes:
        store.log_metric(run_id, metric)
    else:
        await write(request, store.log_metric, run_id, metric)


def write_limiter(store: TrackingStore) -> anyio.CapacityLimiter | None:
    """The limit on concurrent threaded writes, or None (inline writes, or no limit)."""
    if store.inline_writes or store.write_concurrency < 1:
        return None
    return anyio.CapacityLimiter(store.write_concurrency)


def empty() -> Response:
    """The ``{}`` most writes answer, already encoded (no response model to validate)."""
    return Response(_EMPTY_JSON, media_type="application/json")


async def parse_body(request: Request, model: type[M]) -> M:
    """The JSON body validated in one pass (``model_validate_json``), for large bodies.

    FastAPI would ``json.loads`` the body and then validate the Python objects; for a
    1,000-metric ``log-batch`` this costs twice as much. Errors are FastAPI's own
    (``RequestValidationError``), so the error handler answers them as for any other body.
    Only a JSON content type (or none) is read as JSON, as FastAPI does.
    """
    raw = await request.body()
    content_type = request.headers.get("content-type")
    if content_type:
        message = email.message.Message()
        message["content-type"] = content_type
        subtype = message.get_content_subtype()
        is_json = message.get_content_maintype() == "application" and (
            subtype == "json" or subtype.endswith("+json")
        )
        if not is_json:
            raise RequestValidationError(
                [{"type": "model_attributes_type", "loc": ("body",), "msg": "Not JSON"}]
            )
    if not raw.strip() or raw.strip() == b"null":
        raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": "Missing"}])
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        errors = [{**err, "loc": ("body", *err["loc"])} for err in exc.errors()]
        raise RequestValidationError(errors, body=raw) from None


def raw_body_openapi(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` for an endpoint that reads its body with :func:`parse_body`; the app
    adds the model's schema to the document's components (see ``app.py``)."""
    ref = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": ref}}}}
