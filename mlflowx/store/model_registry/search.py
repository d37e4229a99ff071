"""MLflow's search language for registered models and model versions, compiled to SQL.

A filter is clauses joined by ``AND``::

    name LIKE 'fraud-%' AND tags.team = 'risk'
    run_id IN ('a1...', 'b2...') AND version_number >= 2 AND tags.`my tag` != 'x'

Registered models filter on ``name`` (``=``, ``!=``, ``LIKE``, ``ILIKE``, ``IN``, ``NOT IN``)
and ``tags.<key>`` (``=``, ``!=``, ``LIKE``, ``ILIKE``). Model versions add ``run_id`` (as
``name``), ``source_path`` (``=``, ``!=``, ``LIKE``, ``ILIKE``) and ``version_number`` (``=``,
``!=``, ``<``, ``<=``, ``>``, ``>=``). An identifier may carry the prefix ``attribute.``; a tag
key is bare (``tags.team``, dots allowed) or quoted with backquotes or double quotes.

Values are quoted with ``'`` or ``"``; the quote is escaped by doubling it or with a backslash.
``LIKE`` is case-sensitive and ``ILIKE`` is not; in both, a backslash escapes ``%`` and ``_``.
A tag comparison never matches an object without that tag (so ``!=`` needs the tag), as in MLflow.

As in MLflow, prompts (models tagged ``mlflow.prompt.is_prompt = 'true'``) are left out unless
the filter asks for them with ``tags.`mlflow.prompt.is_prompt` = 'true'``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mlflowx.exceptions import InvalidParameter
from mlflowx.store.search import parser
from mlflowx.store.search.parser import LIST_OPS, NUMERIC_OPS, STRING_OPS, Comparison
from mlflowx.store.search.sql import SqlBuilder

__all__ = [
    "IS_PROMPT_TAG",
    "RegistrySearch",
    "compile_model_versions_search",
    "compile_registered_models_search",
    "parse_registry_filter",
]

#: MLflow's marker of prompts, which live in the registry tables but are not models.
IS_PROMPT_TAG = "mlflow.prompt.is_prompt"

_ATTRIBUTE_PREFIXES = frozenset({"attribute", "attributes", "attr"})
_TAG_PREFIXES = frozenset({"tag", "tags"})


@dataclass(frozen=True)
class _Target:
    what: str
    #: attribute -> (SQL column, comparators, numeric)
    attributes: dict[str, tuple[str, frozenset[str], bool]]
    #: order_by key -> (SQL column, is text)
    order_keys: dict[str, tuple[str, bool]]
    tiebreakers: tuple[tuple[str, bool], ...]  # (order key, ascending)
    default_order: tuple[str, ...]
    tag_exists: str  # EXISTS subquery prefix, ends before the key/value conditions
    prompt_exists: str
    aliases: dict[str, str] = field(default_factory=dict)


REGISTERED_MODELS = _Target(
    what="registered models",
    attributes={"name": ("rm.name", STRING_OPS | LIST_OPS, False)},
    order_keys={
        "name": ("rm.name", True),
        "last_updated_timestamp": ("rm.last_updated_time", False),
        "creation_timestamp": ("rm.creation_time", False),
    },
    aliases={"timestamp": "last_updated_timestamp"},
    tiebreakers=(("name", True),),
    default_order=(),
    tag_exists="SELECT 1 FROM registered_model_tags t WHERE t.name = rm.name",
    prompt_exists="SELECT 1 FROM registered_model_tags p WHERE p.name = rm.name",
)

MODEL_VERSIONS = _Target(
    what="model versions",
    attributes={
        "name": ("mv.name", STRING_OPS | LIST_OPS, False),
        "run_id": ("mv.run_id", STRING_OPS | LIST_OPS, False),
        "source_path": ("mv.source", STRING_OPS, False),
        "version_number": ("mv.version", NUMERIC_OPS, True),
    },
    order_keys={
        "name": ("mv.name", True),
        "version_number": ("mv.version", False),
        "creation_timestamp": ("mv.creation_time", False),
        "last_updated_timestamp": ("mv.last_updated_time", False),
    },
    tiebreakers=(("name", True), ("version_number", False)),
    default_order=("last_updated_timestamp DESC", "name ASC", "version_number DESC"),
    tag_exists=(
        "SELECT 1 FROM model_version_tags t WHERE t.name = mv.name AND t.version = mv.version"
    ),
    # MLflow hides every version of a model whose versions carry the prompt tag.
    prompt_exists="SELECT 1 FROM model_version_tags p WHERE p.name = mv.name",
)


def parse_registry_filter(filter_string: str | None, *, versions: bool) -> list[Comparison]:
    """Parse a registered-model (``versions=False``) or model-version filter; empty -> ``[]``.
    The grammar is the runs search's (one tokenizer and parser, :mod:`mlflowx.store.search.parser`),
    with the registry's attributes and comparators: every clause is an ``attribute`` or a
    ``tag`` comparison."""
    grammar = parser.MODEL_VERSIONS if versions else parser.REGISTERED_MODELS
    return parser.parse_filter_with(filter_string, grammar)


# ---------------------------------------------------------------------------------- compile
@dataclass(frozen=True, slots=True)
class RegistrySearch:
    """``WHERE`` and ``ORDER BY`` bodies over ``registered_models rm`` / ``model_versions mv``."""

    where: str
    order_by: str
    params: dict[str, Any]


def _queries_prompts(clauses: list[Comparison]) -> bool:
    for c in clauses:
        if c.entity == "tag" and c.key == IS_PROMPT_TAG and isinstance(c.value, str):
            return (c.op == "=" and c.value.lower() == "true") or (
                c.op == "!=" and c.value.lower() == "false"
            )
    return False


def _order_by(b: SqlBuilder, target: _Target, order_by: Sequence[str] | None) -> str:
    if isinstance(order_by, str):
        raise InvalidParameter(f"order_by must be a list of strings, got {order_by!r}")
    items: list[tuple[str, bool]] = []
    for raw in order_by or target.default_order:
        parts = raw.split() if isinstance(raw, str) else []
        if (
            not parts
            or len(parts) > 2
            or (len(parts) == 2 and parts[1].upper() not in ("ASC", "DESC"))
        ):
            raise InvalidParameter(f"Invalid order_by clause {raw!r}: expected '<key> [ASC|DESC]'")
        key = parts[0].strip("`")
        if "." in key and key.split(".", 1)[0] in _ATTRIBUTE_PREFIXES:
            key = key.split(".", 1)[1].strip("`")
        key = target.aliases.get(key, key)
        if key not in target.order_keys:
            valid = ", ".join(sorted({*target.order_keys, *target.aliases}))
            raise InvalidParameter(
                f"Invalid order by key {parts[0]!r} for {target.what}; valid keys: {valid}"
            )
        if any(k == key for k, _ in items):
            raise InvalidParameter(f"`order_by` contains duplicate fields: {list(order_by or [])}")
        items.append((key, len(parts) == 1 or parts[1].upper() == "ASC"))
    for key, ascending in target.tiebreakers:
        if all(k != key for k, _ in items):
            items.append((key, ascending))
    sql: list[str] = []
    for key, ascending in items:
        column, text = target.order_keys[key]
        if text and b.dialect == "postgresql":  # code-point order, as on SQLite
            column = f'{column} COLLATE "C"'
        sql.append(f"{column} {'ASC' if ascending else 'DESC'}")
    return ", ".join(sql)


def _compile(
    target: _Target, clauses: list[Comparison], order_by: Sequence[str] | None, dialect: str
) -> RegistrySearch:
    b = SqlBuilder(dialect)
    where: list[str] = []
    if not _queries_prompts(clauses):
        # MLflow drops clauses on the prompt tag here (they could only ask for non-prompts).
        clauses = [c for c in clauses if not (c.entity == "tag" and c.key == IS_PROMPT_TAG)]
        where.append(
            f"NOT EXISTS ({target.prompt_exists} AND p.key = {b.bind(IS_PROMPT_TAG)} "
            f"AND p.value = {b.bind('true')})"
        )
    for c in clauses:
        if c.entity == "attribute":
            where.append(b.compare(target.attributes[c.key][0], c.op, c.value))
        else:
            where.append(
                f"EXISTS ({target.tag_exists} AND t.key = {b.bind(c.key)} "
                f"AND {b.compare('t.value', c.op, c.value)})"
            )
    order = _order_by(b, target, order_by)
    return RegistrySearch(" AND ".join(where) or "1=1", order, b.params)


def compile_registered_models_search(
    filter_string: str | None, order_by: Sequence[str] | None, dialect: str
) -> RegistrySearch:
    """Parse and compile a registered-models search over ``registered_models rm``.

    Order keys: ``name``, ``creation_timestamp``, ``last_updated_timestamp`` (or
    ``timestamp``); ``name ASC`` breaks ties (and is the default order).
    """
    clauses = parse_registry_filter(filter_string, versions=False)
    return _compile(REGISTERED_MODELS, clauses, order_by, dialect)


def compile_model_versions_search(
    filter_string: str | None, order_by: Sequence[str] | None, dialect: str
) -> RegistrySearch:
    """Parse and compile a model-versions search over ``model_versions mv``.

    Order keys: ``name``, ``version_number``, ``creation_timestamp``,
    ``last_updated_timestamp``; by default ``last_updated_timestamp DESC, name ASC,
    version_number DESC``, and ``name ASC, version_number DESC`` break ties.
    """
    clauses = parse_registry_filter(filter_string, versions=True)
    return _compile(MODEL_VERSIONS, clauses, order_by, dialect)
