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

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from mlflowx.exceptions import InvalidParameter
from mlflowx.store.search.parser import LIST_OPS, NUMERIC_OPS, STRING_OPS
from mlflowx.store.search.sql import SqlBuilder

__all__ = [
    "IS_PROMPT_TAG",
    "Clause",
    "RegistrySearch",
    "compile_model_versions_search",
    "compile_registered_models_search",
    "parse_registry_filter",
]

#: MLflow's marker of prompts, which live in the registry tables but are not models.
IS_PROMPT_TAG = "mlflow.prompt.is_prompt"

Value = str | int | tuple[str, ...]
_ATTRIBUTE_PREFIXES = frozenset({"attribute", "attributes", "attr"})
_TAG_PREFIXES = frozenset({"tag", "tags"})


@dataclass(frozen=True, slots=True)
class Clause:
    entity: Literal["attribute", "tag"]
    key: str
    op: str
    value: Value


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


# ---------------------------------------------------------------------------------- tokens
@dataclass(frozen=True, slots=True)
class _Token:
    kind: Literal["ident", "string", "number", "op", "(", ")", ",", "end"]
    text: str
    pos: int
    value: str = ""
    prefix: str | None = None  # ident: before the first dot
    quoted: bool = False


_NUMBER = re.compile(r"[+-]?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?")
_WORD = re.compile(r"\w+")
_KEY = re.compile(r"[\w.]+")
_OPERATORS = ("!=", "<=", ">=", "<>", "==", "=", "<", ">")


def _error(message: str, source: str) -> InvalidParameter:
    return InvalidParameter(f"{message} in filter {source!r}")


def _quoted(source: str, start: int) -> tuple[str, int]:
    quote, out, i = source[start], [], start + 1
    while i < len(source):
        ch = source[i]
        if ch == "\\" and i + 1 < len(source) and source[i + 1] in (quote, "\\"):
            out.append(source[i + 1])
            i += 2
        elif ch == quote and i + 1 < len(source) and source[i + 1] == quote:
            out.append(quote)
            i += 2
        elif ch == quote:
            return "".join(out), i + 1
        else:
            out.append(ch)
            i += 1
    raise _error(f"Unterminated quoted text at position {start}", source)


def _identifier(source: str, start: int) -> _Token:
    if source[start] == "`":
        head, i = _quoted(source, start)
        head_quoted = True
    else:
        word = _WORD.match(source, start)
        assert word is not None
        head, i, head_quoted = word.group(), word.end(), False
    if i >= len(source) or source[i] != "." or head_quoted:
        return _Token("ident", source[start:i], start, head, None, head_quoted)
    i += 1
    if i < len(source) and source[i] in "`\"'":
        key, i = _quoted(source, i)
        quoted = True
    elif (match := _KEY.match(source, i)) is not None:
        key, i, quoted = match.group(), match.end(), False
    else:
        raise _error(f"Missing key after {source[start:i]!r} at position {start}", source)
    return _Token("ident", source[start:i], start, key, head, quoted)


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(source):
        ch = source[i]
        if ch.isspace():
            i += 1
        elif ch in "(),":
            tokens.append(_Token(ch, ch, i))  # type: ignore[arg-type]
            i += 1
        elif ch in "'\"":
            value, end = _quoted(source, i)
            tokens.append(_Token("string", source[i:end], i, value))
            i = end
        elif (number := _NUMBER.match(source, i)) is not None:
            tokens.append(_Token("number", number.group(), i, number.group()))
            i = number.end()
        elif ch == "`" or _WORD.match(source, i):
            tokens.append(_identifier(source, i))
            i += len(tokens[-1].text)
        elif op := next((o for o in _OPERATORS if source.startswith(o, i)), None):
            tokens.append(_Token("op", {"<>": "!=", "==": "="}.get(op, op), i))
            i += len(op)
        else:
            raise _error(f"Unexpected character {ch!r} at position {i}", source)
    tokens.append(_Token("end", "", len(source)))
    return tokens


def _keyword(token: _Token, *words: str) -> bool:
    return (
        token.kind == "ident"
        and token.prefix is None
        and not token.quoted
        and token.value.upper() in words
    )


# ---------------------------------------------------------------------------------- parser
class _Parser:
    def __init__(self, source: str, target: _Target) -> None:
        self.source = source
        self.target = target
        self.tokens = _tokenize(source)
        self.index = 0

    def next(self) -> _Token:
        token = self.tokens[self.index]
        self.index += token.kind != "end"
        return token

    def error(self, message: str, token: _Token) -> InvalidParameter:
        found = "the end" if token.kind == "end" else repr(token.text)
        return _error(f"{message}, found {found} at position {token.pos}", self.source)

    def clause(self) -> Clause:
        subject = self.next()
        if subject.kind != "ident" or _keyword(subject, "AND", "IN", "NOT", "LIKE", "ILIKE"):
            raise self.error("Expected an identifier such as name or tags.<key>", subject)
        if subject.prefix is None or subject.prefix in _ATTRIBUTE_PREFIXES:
            entity: Literal["attribute", "tag"] = "attribute"
            if subject.value not in self.target.attributes:
                valid = ", ".join(sorted(self.target.attributes))
                raise InvalidParameter(
                    f"Invalid attribute key {subject.value!r} in filter {self.source!r} for "
                    f"{self.target.what}; valid keys: {valid}, tags.<key>"
                )
            _, allowed, numeric = self.target.attributes[subject.value]
        elif subject.prefix in _TAG_PREFIXES:
            entity, allowed, numeric = "tag", STRING_OPS, False
        else:
            raise InvalidParameter(
                f"Invalid entity type {subject.prefix!r} in filter {self.source!r}; valid: "
                "attribute, tag, tags"
            )
        if not subject.value:
            raise self.error("Empty key", subject)
        op_token = self.next()
        if op_token.kind == "op":
            op = op_token.text
        elif _keyword(op_token, "LIKE", "ILIKE", "IN"):
            op = op_token.value.upper()
        elif _keyword(op_token, "NOT") and _keyword(self.tokens[self.index], "IN"):
            self.next()
            op = "NOT IN"
        else:
            raise self.error(f"Expected a comparator after {subject.text!r}", op_token)
        if op not in allowed:
            raise InvalidParameter(
                f"Invalid comparator {op!r} for {entity} {subject.value!r} in filter "
                f"{self.source!r}; allowed: {', '.join(sorted(allowed))}"
            )
        value: Value
        if op in LIST_OPS:
            value = self.string_list()
        elif numeric:
            value = self.integer(subject.value)
        else:
            token = self.next()
            if token.kind != "string":
                raise self.error(f"Expected a quoted string value for {subject.value!r}", token)
            value = token.value
            if op in ("LIKE", "ILIKE") and re.search(r"(?<!\\)(?:\\\\)*\\$", value):
                raise self.error("A LIKE pattern may not end with a lone '\\'", token)
        return Clause(entity, subject.value, op, value)

    def integer(self, key: str) -> int:
        token = self.next()
        text = token.value.strip() if token.kind in ("number", "string") else ""
        if not re.fullmatch(r"[+-]?\d{1,18}", text):
            raise self.error(f"Expected an integer value for {key!r}", token)
        return int(text)

    def string_list(self) -> tuple[str, ...]:
        token = self.next()
        if token.kind != "(":
            raise self.error("Expected a parenthesized list of quoted strings", token)
        values: list[str] = []
        while True:
            token = self.next()
            if token.kind != "string":
                raise self.error("Expected a quoted string in the list", token)
            values.append(token.value)
            token = self.next()
            if token.kind == ")":
                return tuple(values)
            if token.kind != ",":
                raise self.error("Expected ',' or ')' in the list", token)

    def parse(self) -> list[Clause]:
        clauses = [self.clause()]
        while (token := self.next()).kind != "end":
            if not _keyword(token, "AND"):
                hint = " (only AND is supported)" if _keyword(token, "OR") else ""
                raise self.error(f"Expected AND{hint}", token)
            clauses.append(self.clause())
        return clauses


def parse_registry_filter(filter_string: str | None, *, versions: bool) -> list[Clause]:
    """Parse a registered-model (``versions=False``) or model-version filter; empty -> ``[]``."""
    if filter_string is None or not filter_string.strip():
        return []
    return _Parser(filter_string, MODEL_VERSIONS if versions else REGISTERED_MODELS).parse()


# ---------------------------------------------------------------------------------- compile
@dataclass(frozen=True, slots=True)
class RegistrySearch:
    """``WHERE`` and ``ORDER BY`` bodies over ``registered_models rm`` / ``model_versions mv``."""

    where: str
    order_by: str
    params: dict[str, Any]


def _queries_prompts(clauses: list[Clause]) -> bool:
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
    target: _Target, clauses: list[Clause], order_by: Sequence[str] | None, dialect: str
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
