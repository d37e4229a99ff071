"""Wrapping a user's function: its signature kept for Prefect, its call's arguments by name."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

__all__ = ["bound_arguments", "copy_signature"]


def copy_signature(fn: Callable[..., Any], wrapper: Callable[..., Any]) -> None:
    """Give ``wrapper`` the signature of ``fn`` with its annotations resolved: Prefect resolves
    string annotations (``from __future__ import annotations``) in the *wrapper's* module."""
    signature = inspect.signature(fn)
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except Exception:  # names only the caller's frame knows: leave them as they are
        hints = {}
    if hints:
        signature = signature.replace(
            parameters=[
                p.replace(annotation=hints.get(p.name, p.annotation))
                for p in signature.parameters.values()
            ],
            return_annotation=hints.get("return", signature.return_annotation),
        )
        wrapper.__annotations__ = {**getattr(fn, "__annotations__", {}), **hints}
    wrapper.__signature__ = signature  # type: ignore[attr-defined]


def bound_arguments(signature: inspect.Signature, args: Any, kwargs: Any) -> dict[str, Any]:
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError:
        return {}
    bound.apply_defaults()
    values: dict[str, Any] = {}
    for name, value in bound.arguments.items():
        kind = signature.parameters[name].kind
        if kind is inspect.Parameter.VAR_KEYWORD:
            values.update(value)
        elif kind is inspect.Parameter.VAR_POSITIONAL:
            values[name] = list(value)
        else:
            values[name] = value
    return values
