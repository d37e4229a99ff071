"""``/graphql``: the GraphQL endpoint MLflow's web UI and client query (read queries only).

The answer has MLflow's shape: ``{"data": ..., "errors": [message, ...] | null}`` with status
200; an error raised by mlflowx carries its code in front of the message
(``"PERMISSION_DENIED: ..."``). As MLflow's server, a query may have at most 10 root fields
and 10 aliases, so one request cannot ask for the same expensive search many times.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSyntaxError,
    OperationDefinitionNode,
    Visitor,
    parse,
    visit,
)

from mlflowx.exceptions import InvalidParameter, MlflowxError
from mlflowx.server.graphql.schema import proto_defaults, schema

__all__ = ["PATH", "router"]

PATH = "/graphql"
MAX_ROOT_FIELDS = 10
MAX_ALIASES = 10

router = APIRouter(include_in_schema=False)
log = logging.getLogger("mlflowx.server")


@router.api_route(PATH, methods=["GET", "POST"])
async def graphql_endpoint(request: Request) -> JSONResponse:
    query, variables, operation = await _read(request)
    try:
        document = parse(query)
    except GraphQLSyntaxError as exc:
        return _answer(None, [exc.message])
    refused = _too_wide(document)
    if refused:
        return _answer(None, [refused])
    result = await run_in_threadpool(
        schema.execute,
        query,
        variables=variables,
        operation_name=operation,
        context_value=request,
        middleware=[proto_defaults],
    )
    messages = [_message(e) for e in result.errors] if result.errors else None
    return _answer(result.data, messages)


async def _read(request: Request) -> tuple[str, dict[str, Any] | None, str | None]:
    """The query, variables and operation name: a JSON body (POST) or the query string."""
    if request.method == "POST":
        try:
            body = json.loads(await request.body() or b"{}")
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidParameter(f"The GraphQL request body is not valid JSON: {exc}") from exc
    else:
        body = dict(request.query_params)
        if isinstance(body.get("variables"), str):
            try:
                body["variables"] = json.loads(body["variables"])
            except ValueError as exc:
                raise InvalidParameter(f"'variables' is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise InvalidParameter("The GraphQL request must be a JSON object with a 'query'")
    query, variables, operation = (
        body.get("query"),
        body.get("variables"),
        body.get("operationName"),
    )
    if not isinstance(query, str) or not query.strip():
        raise InvalidParameter("Missing value for required parameter 'query' (a GraphQL query)")
    if variables is not None and not isinstance(variables, dict):
        raise InvalidParameter("'variables' must be a JSON object")
    if operation is not None and not isinstance(operation, str):
        raise InvalidParameter("'operationName' must be a string")
    return query, variables, operation


class _Width(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.aliases = 0
        self.root_fields = 0

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        self.root_fields = max(self.root_fields, len(node.selection_set.selections))

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        if node.alias is not None:
            self.aliases += 1


def _too_wide(document: DocumentNode) -> str | None:
    width = _Width()
    visit(document, width)
    if width.root_fields > MAX_ROOT_FIELDS:
        return f"Query exceeds maximum root fields limit of {MAX_ROOT_FIELDS}."
    if width.aliases > MAX_ALIASES:
        return f"Query exceeds maximum aliases limit of {MAX_ALIASES}."
    return None


def _message(error: GraphQLError) -> str:
    original = error.original_error
    if isinstance(original, MlflowxError):
        return f"{original.code}: {original}"
    if original is not None:  # a bug, not the query's fault: its text stays in the log
        log.error("GraphQL resolver failed", exc_info=original)
        return f"INTERNAL_ERROR: Internal error: {type(original).__name__}"
    return error.message


def _answer(data: Any, errors: list[str] | None) -> JSONResponse:
    return JSONResponse({"data": data, "errors": errors})
