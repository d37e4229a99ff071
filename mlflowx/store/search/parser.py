"""MLflow's search language for runs and experiments, parsed without sqlparse.

A filter is clauses joined by ``AND``::

    metrics.acc > 0.9 AND params.model = 'cnn' AND tags.`my tag` LIKE 'x%'
    attributes.status IN ('FINISHED', 'FAILED') AND datasets.context = 'train'

Identifiers are ``<entity>.<key>``. The entity prefixes are MLflow's (``metric``/``metrics``,
``param``/``params``/``parameter``/``parameters``, ``tag``/``tags``,
``attribute``/``attributes``/``attr``/``run``, ``dataset``/``datasets``); a bare word is an
attribute. A key is either unquoted (word characters and dots, so ``tags.mlflow.runName`` works)
or quoted with backquotes, double quotes or single quotes.

String values are quoted with ``'`` or ``"``. Inside a quoted string or key, the quote character
is written doubled (``'it''s'``) or backslash-escaped (``'it\\'s'``) and ``\\\\`` is one
backslash; any other backslash is kept as is (so ``'C:\\tmp'`` needs no escaping). MLflow keeps
quotes and backslashes in the value verbatim, which leaves no way to search for a quote; this is
the one place where mlflowx reads a filter differently, and only for filters MLflow cannot match.

In ``LIKE``/``ILIKE`` patterns ``%`` and ``_`` are wildcards and a backslash escapes the next
character (``'50\\\\%'`` matches ``50%``), as on PostgreSQL; a pattern may not end with a lone
backslash.

Every malformed input raises :class:`~mlflowx.exceptions.InvalidParameter` naming the offending
token and its position (a 0-based character offset into the filter).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, cast

from mlflowx.exceptions import InvalidParameter

__all__ = [
    "LIST_OPS",
    "MODEL_VERSIONS",
    "NULL_OPS",
    "NUMERIC_OPS",
    "REGISTERED_MODELS",
    "STRING_OPS",
    "Comparison",
    "Grammar",
    "OrderBy",
    "decode_page_token",
    "encode_page_token",
    "parse_experiments_filter",
    "parse_experiments_order_by",
    "parse_filter_with",
    "parse_order_by",
    "parse_order_by_with",
    "parse_search_filter",
]

Entity = Literal["metric", "param", "tag", "attribute", "dataset"]
OrderEntity = Literal["metric", "param", "tag", "attribute"]
Value = str | float | int | tuple[str, ...] | None

#: The run-name tag; ``tags.mlflow.runName`` filters and sorts on ``runs.name``.
RUN_NAME_TAG = "mlflow.runName"


@dataclass(frozen=True, slots=True)
class Comparison:
    """One ``<entity>.<key> <op> <value>`` clause of a filter, with aliases resolved.

    ``value`` is a float for metrics, an int or float for numeric attributes, a string for the
    other entities, a tuple of strings for ``IN``/``NOT IN`` and ``None`` for ``IS [NOT] NULL``.
    """

    entity: Entity
    key: str
    op: str
    value: Value


@dataclass(frozen=True, slots=True)
class OrderBy:
    """One ``order_by`` item: sort on ``<entity>.<key>``."""

    entity: OrderEntity
    key: str
    ascending: bool


# ------------------------------------------------------------------------------------ grammar
NUMERIC_OPS = frozenset({"=", "!=", "<", "<=", ">", ">="})
NULL_OPS = frozenset({"IS NULL", "IS NOT NULL"})
STRING_OPS = frozenset({"=", "!=", "LIKE", "ILIKE"})
LIST_OPS = frozenset({"IN", "NOT IN"})
_KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "IS", "NULL", "LIKE", "ILIKE", "ASC", "DESC"})

# What a key's value must look like, and which comparators it takes.
_Kind = Literal["number", "integer", "string", "id"]


@dataclass(frozen=True)
class Grammar:
    """What one search accepts (runs, experiments, logged models): its entities, attributes
    and comparators; :func:`parse_filter_with` and :func:`parse_order_by_with` read by it."""

    what: str  # "runs" / "experiments", for messages
    entities: Mapping[str, Entity]  # prefix -> entity
    attributes: Mapping[str, _Kind]  # canonical attribute key -> value kind
    attribute_aliases: Mapping[str, str]
    comparators: Mapping[str, frozenset[str]]  # entity, or "attribute:<kind>" -> comparators
    dataset_keys: frozenset[str] = frozenset()
    order_entities: frozenset[Entity] = field(default_factory=frozenset)
    #: attribute key -> its comparators, where they differ from its kind's
    attribute_comparators: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def kind_of(self, entity: Entity, key: str) -> _Kind:
        if entity == "attribute":
            return self.attributes[key]
        return "number" if entity == "metric" else "string"

    def comparators_for(self, entity: Entity, key: str) -> frozenset[str]:
        if entity == "attribute":
            own = self.attribute_comparators.get(key)
            return own if own is not None else self.comparators[f"attribute:{self.attributes[key]}"]
        return self.comparators[entity]


RUNS = Grammar(
    what="runs",
    entities={
        "metric": "metric",
        "metrics": "metric",
        "param": "param",
        "params": "param",
        "parameter": "param",
        "parameters": "param",
        "tag": "tag",
        "tags": "tag",
        "attribute": "attribute",
        "attributes": "attribute",
        "attr": "attribute",
        "run": "attribute",
        "dataset": "dataset",
        "datasets": "dataset",
    },
    attributes={
        "run_id": "string",
        "run_name": "string",
        "status": "string",
        "user_id": "string",
        "artifact_uri": "string",
        "start_time": "number",
        "end_time": "number",
    },
    attribute_aliases={
        "created": "start_time",
        "Created": "start_time",
        "run name": "run_name",
        "Run name": "run_name",
        "Run Name": "run_name",
    },
    comparators={
        "metric": NUMERIC_OPS | NULL_OPS,
        # IN / NOT IN on params and tags go beyond MLflow (which has them for run_id only).
        "param": STRING_OPS | LIST_OPS | NULL_OPS,
        "tag": STRING_OPS | LIST_OPS | NULL_OPS,
        "dataset": STRING_OPS | LIST_OPS,
        "attribute:string": STRING_OPS | LIST_OPS,
        "attribute:number": NUMERIC_OPS,
    },
    dataset_keys=frozenset({"name", "digest", "context"}),
    order_entities=frozenset({"metric", "param", "tag", "attribute"}),
)

EXPERIMENTS = Grammar(
    what="experiments",
    entities={
        "attribute": "attribute",
        "attributes": "attribute",
        "attr": "attribute",
        "tag": "tag",
        "tags": "tag",
    },
    attributes={
        "name": "string",
        "experiment_id": "id",
        "creation_time": "number",
        "last_update_time": "number",
    },
    attribute_aliases={},
    comparators={
        "tag": STRING_OPS | LIST_OPS | NULL_OPS,
        "attribute:string": STRING_OPS,
        "attribute:number": NUMERIC_OPS,
        "attribute:id": frozenset({"=", "!="}) | LIST_OPS,
    },
    order_entities=frozenset({"attribute"}),
)


_REGISTRY_ENTITIES: Mapping[str, Entity] = {
    "attribute": "attribute",
    "attributes": "attribute",
    "attr": "attribute",
    "tag": "tag",
    "tags": "tag",
}

REGISTERED_MODELS = Grammar(
    what="registered models",
    entities=_REGISTRY_ENTITIES,
    attributes={"name": "string"},
    attribute_aliases={},
    comparators={"tag": STRING_OPS, "attribute:string": STRING_OPS | LIST_OPS},
)

MODEL_VERSIONS = Grammar(
    what="model versions",
    entities=_REGISTRY_ENTITIES,
    attributes={
        "name": "string",
        "run_id": "string",
        "source_path": "string",
        "version_number": "integer",
    },
    attribute_aliases={},
    comparators={
        "tag": STRING_OPS,
        "attribute:string": STRING_OPS | LIST_OPS,
        "attribute:integer": NUMERIC_OPS,
    },
    attribute_comparators={"source_path": STRING_OPS},
)


# ---------------------------------------------------------------------------------- tokenizer
_TokenKind = Literal["ident", "string", "number", "op", "(", ")", ",", "other", "end"]


@dataclass(frozen=True, slots=True)
class _Token:
    kind: _TokenKind
    text: str  # as written
    pos: int
    value: str = ""  # string: unescaped contents; ident: the key (or the bare word)
    prefix: str | None = None  # ident: the part before the first dot, unquoted
    quoted: bool = False  # ident: the bare word / key was quoted
    key_pos: int = 0  # ident: where the key starts

    def is_keyword(self, *words: str) -> bool:
        return (
            self.kind == "ident"
            and self.prefix is None
            and not self.quoted
            and self.value.upper() in words
        )

    def describe(self) -> str:
        return "end of input" if self.kind == "end" else repr(self.text)


_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_WORD = re.compile(r"\w+")
_KEY = re.compile(r"[\w.]+")
_OPERATORS = ("!=", "<=", ">=", "<>", "==", "=", "<", ">")
_QUOTES = "'\"`"


def _error(message: str, source: str, what: str, hint: str = "") -> InvalidParameter:
    return InvalidParameter(f"{message} in {what} {source!r}{hint}")


def _read_quoted(source: str, start: int, what: str) -> tuple[str, int]:
    """Read the quoted text starting at ``source[start]``; returns (unescaped, end offset)."""
    quote = source[start]
    out: list[str] = []
    i = start + 1
    while i < len(source):
        ch = source[i]
        if ch == "\\" and i + 1 < len(source) and source[i + 1] in (quote, "\\"):
            out.append(source[i + 1])
            i += 2
        elif ch == quote:
            if i + 1 < len(source) and source[i + 1] == quote:
                out.append(quote)
                i += 2
            else:
                return "".join(out), i + 1
        else:
            out.append(ch)
            i += 1
    raise _error(f"Unterminated quoted text {source[start:]!r} at position {start}", source, what)


def _tokenize(source: str, what: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch.isspace():
            i += 1
            continue
        start = i
        if ch in "(),":
            tokens.append(_Token(cast(_TokenKind, ch), ch, start))
            i += 1
        elif ch in "'\"":
            value, i = _read_quoted(source, start, what)
            tokens.append(_Token("string", source[start:i], start, value))
        elif (number := _NUMBER.match(source, i)) is not None:
            i = number.end()
            tokens.append(_Token("number", number.group(), start, number.group()))
        elif ch == "`" or _WORD.match(source, i):
            tokens.append(_read_identifier(source, start, what))
            i = start + len(tokens[-1].text)
        elif op := next((op for op in _OPERATORS if source.startswith(op, i)), None):
            tokens.append(_Token("op", op, start))
            i += len(op)
        else:
            tokens.append(_Token("other", ch, start))
            i += 1
    tokens.append(_Token("end", "", n))
    return tokens


def _read_identifier(source: str, start: int, what: str) -> _Token:
    """``word`` or ```word```, optionally followed by ``.key`` (quoted, or word chars and dots)."""
    if source[start] == "`":
        head, i = _read_quoted(source, start, what)
        head_quoted = True
    else:
        word = _WORD.match(source, start)
        assert word is not None
        head, i, head_quoted = word.group(), word.end(), False
    if i >= len(source) or source[i] != ".":
        return _Token("ident", source[start:i], start, head, None, head_quoted, start)
    i += 1
    key_pos = i
    if i < len(source) and source[i] in _QUOTES:
        key, i = _read_quoted(source, i, what)
        quoted = True
    elif (match := _KEY.match(source, i)) is not None:
        key, i, quoted = match.group(), match.end(), False
    else:
        raise _error(f"Missing key after {source[start:i]!r} at position {start}", source, what)
    return _Token("ident", source[start:i], start, key, head, quoted, key_pos)


# ------------------------------------------------------------------------------------- parser
class _Parser:
    def __init__(self, source: str, grammar: Grammar, what: str) -> None:
        self.source = source
        self.grammar = grammar
        self.what = what
        self.tokens = _tokenize(source, what)
        self.index = 0

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def next(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def error(
        self, message: str, token: _Token, hint: str = "", *, pos: int | None = None
    ) -> InvalidParameter:
        """``<message> at position <n> in filter '<source>'<hint>``; name the token last."""
        pos = token.pos if pos is None else pos
        return _error(f"{message} at position {pos}", self.source, self.what, hint)

    def identifier(self, *, for_order: bool) -> tuple[Entity, str, _Token]:
        token = self.next()
        if for_order and token.kind == "string":
            # MLflow reads order_by with shlex, so '"metrics.my key" DESC' is a key there.
            token = _Token("ident", token.text, token.pos, token.value, None, True, token.pos)
        if (
            token.kind == "ident"
            and token.prefix is None
            and token.quoted
            and "." in token.value
            and token.value not in self.grammar.attributes
            and token.value.split(".", 1)[0] in self.grammar.entities
        ):  # `metrics.acc`: the whole identifier quoted
            prefix, key = token.value.split(".", 1)
            token = _Token("ident", token.text, token.pos, key, prefix, True, token.pos)
        if token.kind != "ident" or token.is_keyword(*_KEYWORDS):
            expected = "an identifier such as metrics.<key> or attributes.<key>"
            raise self.error(f"Expected {expected}, found {token.describe()}", token)
        grammar = self.grammar
        if token.prefix is None:
            entity: Entity = "attribute"
        elif token.prefix in grammar.entities:
            entity = grammar.entities[token.prefix]
        else:
            valid = ", ".join(sorted(grammar.entities))
            raise self.error(f"Invalid entity type {token.prefix!r}", token, f"; valid: {valid}")
        key = token.value
        if entity == "attribute":
            key = grammar.attribute_aliases.get(key, key)
            if key not in grammar.attributes:
                valid = ", ".join(sorted({*grammar.attributes, *grammar.attribute_aliases}))
                raise self.error(
                    f"Invalid attribute key {token.value!r}",
                    token,
                    f"; valid: {valid}",
                    pos=token.key_pos,
                )
        elif entity == "dataset" and key not in grammar.dataset_keys:
            valid = ", ".join(sorted(grammar.dataset_keys))
            raise self.error(
                f"Invalid dataset key {key!r}", token, f"; valid: {valid}", pos=token.key_pos
            )
        if not key:
            raise self.error(f"Empty key in {token.text!r}", token)
        if for_order and entity not in grammar.order_entities:
            raise self.error(f"Cannot order {grammar.what} by {token.text!r}", token)
        return entity, key, token

    def comparator(self, subject: _Token) -> tuple[str, _Token]:
        token = self.next()
        if token.kind == "op":
            return token.text, token
        if token.is_keyword("LIKE", "ILIKE", "IN"):
            return token.value.upper(), token
        if token.is_keyword("NOT"):
            follow = self.next()
            if follow.is_keyword("IN"):
                return "NOT IN", token
            raise self.error(f"Expected IN after 'NOT', found {follow.describe()}", follow)
        if token.is_keyword("IS"):
            follow = self.next()
            if follow.is_keyword("NULL"):
                return "IS NULL", token
            if follow.is_keyword("NOT"):
                follow = self.next()
                if follow.is_keyword("NULL"):
                    return "IS NOT NULL", token
            raise self.error(f"Expected NULL after 'IS [NOT]', found {follow.describe()}", follow)
        if token.kind == "end":
            raise self.error(f"Missing comparator after {subject.text!r}", token)
        raise self.error(f"Invalid comparator {token.text!r}", token)

    def scalar(self, kind: _Kind, entity: Entity, key: str, op: _Token) -> str | float | int:
        token = self.next()
        if token.kind == "end":
            raise self.error(f"Missing value after {op.text!r}", token)
        if kind == "number":
            if token.kind != "number":
                raise self.error(
                    f"Expected a numeric value for {entity} {key!r}, found {token.describe()}",
                    token,
                )
            text = token.value
            if entity == "attribute" and re.fullmatch(r"[+-]?\d+", text):
                return int(text)
            return float(text)
        if kind == "integer":  # a whole number, written bare or quoted
            text = token.value.strip() if token.kind in ("number", "string") else ""
            if not re.fullmatch(r"[+-]?\d{1,18}", text):
                raise self.error(
                    f"Expected an integer value for {entity} {key!r}, found {token.describe()}",
                    token,
                )
            return int(text)
        if kind == "id" and token.kind == "number" and re.fullmatch(r"[+-]?\d+", token.value):
            return token.value.lstrip("+")
        if token.kind != "string":
            raise self.error(
                f"Expected a quoted string value for {entity} {key!r}, found {token.describe()}",
                token,
            )
        if kind == "id":
            self.check_id(token.value, token)
        return token.value

    def check_id(self, value: str, token: _Token) -> None:
        if not re.fullmatch(r"\d+", value):
            raise self.error(f"Invalid experiment id {value!r}", token)

    def string_list(self, kind: _Kind, entity: Entity, key: str, op: _Token) -> tuple[str, ...]:
        opening = self.next()
        if opening.kind != "(":
            raise self.error(
                f"Expected a parenthesized list of quoted strings after {op.text!r}, "
                f"found {opening.describe()}",
                opening,
            )
        values: list[str] = []
        while True:
            token = self.next()
            if token.kind == ")" and values:
                break
            if token.kind == "string":
                if kind == "id":
                    self.check_id(token.value, token)
                values.append(token.value)
            elif kind == "id" and token.kind == "number" and re.fullmatch(r"\d+", token.value):
                values.append(token.value)
            else:
                raise self.error(
                    f"Expected a quoted string in the list for {entity} {key!r}, "
                    f"found {token.describe()}",
                    token,
                )
            separator = self.next()
            if separator.kind == ")":
                break
            if separator.kind != ",":
                raise self.error(
                    f"Expected ',' or ')' in the list, found {separator.describe()}", separator
                )
            if self.peek().kind == ")":  # a trailing comma, as Python's tuple syntax allows
                self.next()
                break
        return tuple(values)

    def clause(self) -> Comparison:
        entity, key, subject = self.identifier(for_order=False)
        op, op_token = self.comparator(subject)
        allowed = self.grammar.comparators_for(entity, key)
        if op not in allowed:
            choices = ", ".join(sorted(allowed))
            raise self.error(
                f"Invalid comparator for {entity} {key!r}: {op!r}",
                op_token,
                f"; allowed: {choices}",
            )
        kind = self.grammar.kind_of(entity, key)
        value: Value
        if op in NULL_OPS:
            value = None
        elif op in LIST_OPS:
            value = self.string_list(kind, entity, key, op_token)
        else:
            value = self.scalar(kind, entity, key, op_token)
            if op in ("LIKE", "ILIKE"):
                assert isinstance(value, str)
                if re.search(r"(?<!\\)(?:\\\\)*\\$", value):
                    token = self.tokens[self.index - 1]
                    raise self.error(
                        f"LIKE pattern ends with a lone escape character '\\': {token.describe()}",
                        token,
                    )
        return Comparison(entity, key, op, value)

    def filter(self) -> list[Comparison]:
        clauses = [self.clause()]
        while (token := self.next()).kind != "end":
            if not token.is_keyword("AND"):
                hint = "; only AND is supported" if token.is_keyword("OR") else ""
                raise self.error(f"Expected AND, found {token.describe()}", token, hint)
            if self.peek().kind == "end":
                raise self.error("Missing clause after 'AND'", token)
            clauses.append(self.clause())
        return clauses

    def order_item(self) -> tuple[Entity, str, bool]:
        entity, key, _ = self.identifier(for_order=True)
        ascending = True
        token = self.next()
        if token.is_keyword("ASC", "DESC"):
            ascending = token.value.upper() == "ASC"
            token = self.next()
        if token.kind != "end":
            raise self.error(f"Expected ASC, DESC or the end, found {token.describe()}", token)
        return entity, key, ascending


def parse_filter_with(filter_string: str | None, grammar: Grammar) -> list[Comparison]:
    """The AND-ed comparisons of ``filter_string``, checked against ``grammar``."""
    if filter_string is None or not filter_string.strip():
        return []
    return _Parser(filter_string, grammar, "filter").filter()


def parse_order_by_with(order_by: Sequence[str] | None, grammar: Grammar) -> list[OrderBy]:
    """The ``order_by`` items, checked against ``grammar`` (each key at most once)."""
    if isinstance(order_by, str):  # a lone string would otherwise be read character by character
        raise InvalidParameter(f"order_by must be a list of strings, got {order_by!r}")
    result: list[OrderBy] = []
    seen: set[tuple[str, str]] = set()
    for item in order_by or ():
        if not isinstance(item, str) or not item.strip():
            raise InvalidParameter(f"Invalid order_by clause {item!r}: expected '<key> [ASC|DESC]'")
        entity, key, ascending = _Parser(item, grammar, "order_by clause").order_item()
        if (entity, key) in seen:
            raise InvalidParameter(
                f"order_by contains the field {item!r} twice: {list(order_by or ())}"
            )
        seen.add((entity, key))
        result.append(OrderBy(cast(OrderEntity, entity), key, ascending))
    return result


def parse_search_filter(filter_string: str | None) -> list[Comparison]:
    """Parse a runs filter (``metrics.acc > 0.9 AND params.model = 'cnn'``); empty -> ``[]``."""
    return parse_filter_with(filter_string, RUNS)


def parse_order_by(order_by: Sequence[str] | None) -> list[OrderBy]:
    """Parse runs ``order_by`` items (``metrics.acc DESC``, ``start_time``, ``params.`a` ASC``)."""
    return parse_order_by_with(order_by, RUNS)


def parse_experiments_filter(filter_string: str | None) -> list[Comparison]:
    """Parse an experiments filter (``name LIKE 'x%' AND tags.team = 'ml'``); empty -> ``[]``."""
    return parse_filter_with(filter_string, EXPERIMENTS)


def parse_experiments_order_by(order_by: Sequence[str] | None) -> list[OrderBy]:
    """Parse experiments ``order_by`` items (``name``, ``creation_time DESC`` ...)."""
    return parse_order_by_with(order_by, EXPERIMENTS)


# --------------------------------------------------------------------------------- page token
def encode_page_token(offset: int) -> str:
    """The opaque ``next_page_token`` for a page starting at ``offset`` (MLflow's format)."""
    return base64.b64encode(json.dumps({"offset": offset}).encode()).decode("ascii")


#: Offset tokens are ~20 characters; a keyset token carries the last row's sort key, which may
#: be a tag value of 8,000 characters (up to 4 UTF-8 bytes each, plus a 200-character prefix on
#: PostgreSQL, base64-encoded): ~44,000. Anything longer is not one of them.
MAX_PAGE_TOKEN_LENGTH = 48 * 1024
#: The largest offset a token may hold: no result set is longer, and every database binds it
#: (with a page size added: OFFSET and LIMIT are 64-bit integers).
MAX_PAGE_OFFSET = 2**62


def decode_page_token(token: str | None) -> int:
    """The offset in a token from :func:`encode_page_token` (or MLflow's); empty -> 0.

    Raises:
        InvalidParameter: the token is not one this server (or MLflow) made, or its offset is
            negative or beyond :data:`MAX_PAGE_OFFSET`.
    """
    if not token:
        return 0
    shown = repr(token) if len(token) <= 60 else f"{token[:40]!r}... ({len(token)} characters)"
    invalid = f"Invalid page token {shown}"
    hint = "pass the next_page_token of the previous page unchanged"
    if len(token) > MAX_PAGE_TOKEN_LENGTH:
        raise InvalidParameter(f"{invalid}: longer than {MAX_PAGE_TOKEN_LENGTH} characters; {hint}")
    try:
        parsed = json.loads(base64.b64decode(token, validate=True))
    except (binascii.Error, ValueError, RecursionError):
        # ValueError also covers undecodable bytes and integers too long to convert.
        raise InvalidParameter(f"{invalid}: not base64-encoded JSON; {hint}") from None
    offset = parsed.get("offset") if isinstance(parsed, dict) else None
    if isinstance(offset, str) and offset.isascii() and offset.isdigit() and len(offset) <= 18:
        offset = int(offset)  # be lenient with string offsets
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise InvalidParameter(f"{invalid}: no non-negative integer 'offset' in it; {hint}")
    if offset > MAX_PAGE_OFFSET:
        raise InvalidParameter(
            f"{invalid}: its offset is beyond the largest page offset {MAX_PAGE_OFFSET}"
        )
    return offset
