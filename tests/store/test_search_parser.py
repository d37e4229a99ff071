"""Unit tests for the search-filter / order-by parser and the page tokens."""

from __future__ import annotations

import base64
import math
import re

import pytest

from mlflowx.exceptions import InvalidParameter
from mlflowx.store.search import (
    Comparison,
    OrderBy,
    decode_page_token,
    encode_page_token,
    parse_experiments_filter,
    parse_experiments_order_by,
    parse_order_by,
    parse_search_filter,
)


def one(filter_string: str) -> Comparison:
    (comparison,) = parse_search_filter(filter_string)
    return comparison


# ---------------------------------------------------------------------------- empty / AND
@pytest.mark.parametrize("filter_string", [None, "", "   ", "\n\t"])
def test_empty_filter_is_no_clause(filter_string: str | None) -> None:
    assert parse_search_filter(filter_string) == []


@pytest.mark.parametrize("conjunction", ["AND", "and", "And", "aNd"])
def test_clauses_join_with_and_in_any_case(conjunction: str) -> None:
    assert parse_search_filter(f"metrics.a > 1 {conjunction} params.b = 'x'") == [
        Comparison("metric", "a", ">", 1.0),
        Comparison("param", "b", "=", "x"),
    ]


def test_three_clauses_without_spaces_around_operators() -> None:
    assert parse_search_filter("metrics.a>=1 AND tags.t!='v' AND attributes.end_time<5") == [
        Comparison("metric", "a", ">=", 1.0),
        Comparison("tag", "t", "!=", "v"),
        Comparison("attribute", "end_time", "<", 5),
    ]


# ------------------------------------------------------------------- comparators per entity
@pytest.mark.parametrize("op", ["=", "!=", "<", "<=", ">", ">="])
def test_metric_numeric_comparators(op: str) -> None:
    assert one(f"metrics.acc {op} 0.5") == Comparison("metric", "acc", op, 0.5)


@pytest.mark.parametrize("op", ["IS NULL", "IS NOT NULL", "is null", "Is Not Null"])
@pytest.mark.parametrize("entity", ["metric", "param", "tag"])
def test_null_comparators(entity: str, op: str) -> None:
    assert one(f"{entity}s.k {op}") == Comparison(entity, "k", op.upper(), None)  # type: ignore[arg-type]


@pytest.mark.parametrize("op", ["=", "!=", "LIKE", "ILIKE", "like", "ilike"])
@pytest.mark.parametrize("entity", ["param", "tag"])
def test_param_and_tag_string_comparators(entity: str, op: str) -> None:
    assert one(f"{entity}s.k {op} 'v%'") == Comparison(entity, "k", op.upper(), "v%")  # type: ignore[arg-type]


@pytest.mark.parametrize("op", ["IN", "NOT IN", "in", "not in"])
@pytest.mark.parametrize("prefix", ["params", "tags", "attributes", "datasets"])
def test_in_lists(prefix: str, op: str) -> None:
    key = {"attributes": "status", "datasets": "name"}.get(prefix, "k")
    comparison = one(f"{prefix}.{key} {op} ('a', \"b\")")
    assert (comparison.op, comparison.value) == (op.upper(), ("a", "b"))


def test_in_list_allows_a_single_item_and_a_trailing_comma() -> None:
    assert one("attributes.run_id IN ('a')").value == ("a",)
    assert one("attributes.run_id IN ('a', 'b',)").value == ("a", "b")


@pytest.mark.parametrize("op", ["=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"])
@pytest.mark.parametrize("key", ["run_id", "run_name", "status", "user_id", "artifact_uri"])
def test_string_attribute_comparators(key: str, op: str) -> None:
    value = "('x')" if "IN" in op else "'x'"
    expected: object = ("x",) if "IN" in op else "x"
    assert one(f"attributes.{key} {op} {value}") == Comparison("attribute", key, op, expected)  # type: ignore[arg-type]


@pytest.mark.parametrize("op", ["=", "!=", "<", "<=", ">", ">="])
@pytest.mark.parametrize("key", ["start_time", "end_time"])
def test_numeric_attribute_comparators(key: str, op: str) -> None:
    assert one(f"attributes.{key} {op} 123") == Comparison("attribute", key, op, 123)


@pytest.mark.parametrize("op", ["=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"])
@pytest.mark.parametrize("key", ["name", "digest", "context"])
def test_dataset_comparators(key: str, op: str) -> None:
    value = "('x')" if "IN" in op else "'x'"
    expected: object = ("x",) if "IN" in op else "x"
    assert one(f"datasets.{key} {op} {value}") == Comparison("dataset", key, op, expected)  # type: ignore[arg-type]


# --------------------------------------------------------------------- identifiers / aliases
@pytest.mark.parametrize(
    ("identifier", "entity"),
    [
        ("metrics.k", "metric"),
        ("metric.k", "metric"),
        ("params.k", "param"),
        ("param.k", "param"),
        ("parameters.k", "param"),
        ("parameter.k", "param"),
        ("tags.k", "tag"),
        ("tag.k", "tag"),
        ("`tags`.k", "tag"),
    ],
)
def test_entity_prefixes(identifier: str, entity: str) -> None:
    assert one(f"{identifier} IS NULL") == Comparison(entity, "k", "IS NULL", None)  # type: ignore[arg-type]


@pytest.mark.parametrize("prefix", ["attributes.", "attribute.", "attr.", "run.", ""])
def test_attribute_prefixes_and_bare_names(prefix: str) -> None:
    assert one(f"{prefix}status = 'FINISHED'") == Comparison("attribute", "status", "=", "FINISHED")


@pytest.mark.parametrize("prefix", ["datasets", "dataset"])
def test_dataset_prefixes(prefix: str) -> None:
    assert one(f"{prefix}.context = 'train'") == Comparison("dataset", "context", "=", "train")


@pytest.mark.parametrize(
    ("identifier", "key"),
    [
        ("created", "start_time"),
        ("Created", "start_time"),
        ("attributes.created", "start_time"),
        ("`Run name`", "run_name"),
        ("attributes.`run name`", "run_name"),
        ('attributes."Run Name"', "run_name"),
    ],
)
def test_attribute_aliases(identifier: str, key: str) -> None:
    value = "1" if key == "start_time" else "'x'"
    assert one(f"{identifier} = {value}").key == key


@pytest.mark.parametrize(
    ("identifier", "key"),
    [
        ("tags.mlflow.runName", "mlflow.runName"),
        ("tags.`mlflow.runName`", "mlflow.runName"),
        ("params.`my key`", "my key"),
        ('params."my key"', "my key"),
        ("params.'my key'", "my key"),
        ("params.`a``b`", "a`b"),
        ('params."a""b"', 'a"b'),
        ('params."a\\"b"', 'a"b'),
        ("params.`weird-key/with:chars`", "weird-key/with:chars"),
        ("metrics.a.b.c", "a.b.c"),
        ("metrics.1st", "1st"),
        ("metrics.üñí", "üñí"),
        ("`metrics.a.b`", "a.b"),
    ],
)
def test_key_quoting(identifier: str, key: str) -> None:
    assert one(f"{identifier} IS NOT NULL").key == key


# ----------------------------------------------------------------------------------- values
@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("'x'", "x"),
        ('"x"', "x"),
        ("''", ""),
        ("'it''s'", "it's"),
        ("'it\\'s'", "it's"),
        ('"say ""hi"""', 'say "hi"'),
        ('"it\'s"', "it's"),
        ("'a\\\\b'", "a\\b"),
        ("'C:\\tmp'", "C:\\tmp"),
        ("'%_'", "%_"),
        ("'AND x = 1'", "AND x = 1"),
        ("'ünï'", "ünï"),
    ],
)
def test_string_literals(literal: str, value: str) -> None:
    assert one(f"params.p = {literal}").value == value


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("1", 1.0),
        ("-1", -1.0),
        ("+2", 2.0),
        ("0.25", 0.25),
        (".5", 0.5),
        ("5.", 5.0),
        ("1e3", 1000.0),
        ("-2.5E-1", -0.25),
        ("1e999", math.inf),
    ],
)
def test_metric_numbers_are_floats(literal: str, value: float) -> None:
    parsed = one(f"metrics.m < {literal}").value
    assert isinstance(parsed, float)
    assert parsed == value


def test_numeric_attribute_keeps_integers_and_floats() -> None:
    assert one("attributes.start_time >= 1700000000000").value == 1700000000000
    assert isinstance(one("attributes.start_time >= 1700000000000").value, int)
    assert one("attributes.end_time < 1.5").value == 1.5


def test_like_pattern_may_escape_wildcards() -> None:
    assert one("params.p LIKE '50\\\\%'").value == "50\\%"


# ----------------------------------------------------------------------------------- errors
def _raises_at(filter_string: str, token: str, position: int) -> None:
    pattern = rf"{re.escape(repr(token))} at position {position}\b"
    with pytest.raises(InvalidParameter, match=pattern):
        parse_search_filter(filter_string)


@pytest.mark.parametrize(
    ("filter_string", "token", "position"),
    [
        ("metrics.acc ~ 1", "~", 12),
        ("metrics.acc > 1 OR metrics.b < 2", "OR", 16),
        ("(metrics.acc > 1)", "(", 0),
        ("metrics.acc > 1 AND (params.a = 'x')", "(", 20),
        ("foo.bar = 'x'", "foo", 0),
        ("attributes.nope = 'x'", "nope", 11),
        ("datasets.size = 'x'", "size", 9),
        ("metrics.acc LIKE 'x'", "LIKE", 12),
        ("metrics.acc IN ('x')", "IN", 12),
        ("params.p > 'x'", ">", 9),
        ("params.p < 'x'", "<", 9),
        ("attributes.status IS NULL", "IS NULL", 18),
        ("attributes.start_time LIKE '1'", "LIKE", 22),
        ("attributes.start_time IN ('1')", "IN", 22),
        ("datasets.name IS NULL", "IS NULL", 14),
        ("datasets.name > 'a'", ">", 14),
        ("metrics.acc == 1", "==", 12),
        ("metrics.acc <> 1", "<>", 12),
        ("metrics.acc = 'x'", "'x'", 14),
        ("'metrics.acc' = 1", "'metrics.acc'", 0),
        ("metrics.acc = abc", "abc", 14),
        ("attributes.start_time = '5'", "'5'", 24),
        ("params.p = 5", "5", 11),
        ("params.p = `x`", "`x`", 11),
        ("tags.t = x", "x", 9),
        ("params.p = 'a' extra", "extra", 15),
        ("params.p = 'a' AND", "AND", 15),
        ("params.p = 'a' 'b'", "'b'", 15),
        ("params.p = 'a',", ",", 14),
        ("params.p NOT LIKE 'a'", "LIKE", 13),
        ("params.p IS 'a'", "'a'", 12),
        ("params.p IS NOT 'a'", "'a'", 16),
        ("params.p IN 'a'", "'a'", 12),
        ("params.p IN ()", ")", 13),
        ("params.p IN ('a' 'b')", "'b'", 17),
        ("params.p IN ('a', 1)", "1", 18),
        ("params.p LIKE 'a\\\\'", "'a\\\\'", 14),
        ("AND params.p = 'a'", "AND", 0),
        ("= 'a'", "=", 0),
        ("'a' = params.p", "'a'", 0),
        ("metrics.acc > 1; DROP TABLE runs", ";", 15),
    ],
)
def test_errors_name_token_and_position(filter_string: str, token: str, position: int) -> None:
    _raises_at(filter_string, token, position)


@pytest.mark.parametrize(
    ("filter_string", "message"),
    [
        ("metrics.acc", r"Missing comparator after 'metrics.acc' at position 11"),
        ("metrics.acc >", r"Missing value after '>' at position 13"),
        (
            "params.p IN ('a'",
            r"Expected ',' or '\)' in the list, found end of input at position 16",
        ),
        ("params.p = 'abc", r"Unterminated quoted text \"'abc\" at position 11"),
        ("params.`abc = 'x'", r"Unterminated quoted text .* at position 7"),
        ("params. = 'x'", r"Missing key after 'params.' at position 0"),
        ("params.`` = 'x'", r"Empty key in 'params.``' at position 0"),
        ("params.p = 'a' AND ", r"Missing clause after 'AND' at position 15"),
    ],
)
def test_error_messages(filter_string: str, message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        parse_search_filter(filter_string)


def test_error_message_quotes_the_filter_and_lists_choices() -> None:
    with pytest.raises(
        InvalidParameter,
        match=(
            r"^Invalid comparator for metric 'acc': 'LIKE' at position 12 in filter "
            r"\"metrics.acc LIKE 'x'\"; allowed: !=, <, <=, =, >, >=, IS NOT NULL, IS NULL$"
        ),
    ):
        parse_search_filter("metrics.acc LIKE 'x'")


def test_invalid_parameter_is_http_400() -> None:
    with pytest.raises(InvalidParameter, match="position") as info:
        parse_search_filter("metrics.acc ~ 1")
    assert info.value.http_status == 400
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


# ---------------------------------------------------------------------------------- order by
@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("metrics.acc", OrderBy("metric", "acc", True)),
        ("metrics.acc DESC", OrderBy("metric", "acc", False)),
        ("metric.acc desc", OrderBy("metric", "acc", False)),
        ("params.p ASC", OrderBy("param", "p", True)),
        ("parameters.p asc", OrderBy("param", "p", True)),
        ("tags.t Desc", OrderBy("tag", "t", False)),
        ("tags.mlflow.runName", OrderBy("tag", "mlflow.runName", True)),
        ("metrics.`my key` DESC", OrderBy("metric", "my key", False)),
        ('params."my key"', OrderBy("param", "my key", True)),
        ("attributes.start_time DESC", OrderBy("attribute", "start_time", False)),
        ("attribute.run_id", OrderBy("attribute", "run_id", True)),
        ("attr.run_name", OrderBy("attribute", "run_name", True)),
        ("run.status", OrderBy("attribute", "status", True)),
        ("start_time", OrderBy("attribute", "start_time", True)),
        ("end_time DESC", OrderBy("attribute", "end_time", False)),
        ("created DESC", OrderBy("attribute", "start_time", False)),
        ("Created", OrderBy("attribute", "start_time", True)),
        ("`Run Name`", OrderBy("attribute", "run_name", True)),
        ("user_id", OrderBy("attribute", "user_id", True)),
        ("artifact_uri DESC", OrderBy("attribute", "artifact_uri", False)),
        ("  metrics.acc   DESC  ", OrderBy("metric", "acc", False)),
        ("`metrics.my key` DESC", OrderBy("metric", "my key", False)),
        ('"params.my key"', OrderBy("param", "my key", True)),
        ("'tags.t' ASC", OrderBy("tag", "t", True)),
        ('"start_time" DESC', OrderBy("attribute", "start_time", False)),
    ],
)
def test_order_by(item: str, expected: OrderBy) -> None:
    assert parse_order_by([item]) == [expected]


def test_order_by_keeps_the_list_order() -> None:
    assert parse_order_by(["metrics.a DESC", "params.b", "start_time ASC"]) == [
        OrderBy("metric", "a", False),
        OrderBy("param", "b", True),
        OrderBy("attribute", "start_time", True),
    ]


@pytest.mark.parametrize("order_by", [None, []])
def test_empty_order_by(order_by: list[str] | None) -> None:
    assert parse_order_by(order_by) == []


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("metrics.acc UP", r"'UP' at position 12"),
        ("metrics.acc DESC ASC", r"'ASC' at position 17"),
        ("datasets.name", r"Cannot order runs by 'datasets.name' at position 0"),
        ("foo.bar", r"Invalid entity type 'foo' at position 0 in order_by clause 'foo.bar'"),
        ("nope DESC", r"Invalid attribute key 'nope' at position 0"),
        ("metrics.acc, params.b", r"',' at position 11"),
        ("DESC", r"found 'DESC' at position 0"),
        ("", r"Invalid order_by clause ''"),
        ("metrics.acc > 1", r"'>' at position 12"),
    ],
)
def test_order_by_errors(item: str, message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        parse_order_by([item])


def test_order_by_rejects_duplicates_after_aliases() -> None:
    with pytest.raises(InvalidParameter, match="twice"):
        parse_order_by(["start_time", "created DESC"])


def test_order_by_rejects_a_bare_string() -> None:
    with pytest.raises(InvalidParameter, match="must be a list"):
        parse_order_by("metrics.acc")


# ------------------------------------------------------------------------------ experiments
def test_experiments_filter() -> None:
    assert parse_experiments_filter(
        "name LIKE 'a%' AND attributes.name != 'b' AND attribute.creation_time >= 5 "
        "AND last_update_time < 9 AND tags.team = 'ml' AND tag.`x y` IS NULL "
        "AND experiment_id IN ('1', 2) AND attr.experiment_id = '3'"
    ) == [
        Comparison("attribute", "name", "LIKE", "a%"),
        Comparison("attribute", "name", "!=", "b"),
        Comparison("attribute", "creation_time", ">=", 5),
        Comparison("attribute", "last_update_time", "<", 9),
        Comparison("tag", "team", "=", "ml"),
        Comparison("tag", "x y", "IS NULL", None),
        Comparison("attribute", "experiment_id", "IN", ("1", "2")),
        Comparison("attribute", "experiment_id", "=", "3"),
    ]


@pytest.mark.parametrize(
    ("filter_string", "message"),
    [
        ("metrics.a > 1", r"Invalid entity type 'metrics' at position 0"),
        ("params.a = 'x'", r"Invalid entity type 'params'"),
        ("name > 'a'", r"Invalid comparator for attribute 'name': '>' at position 5"),
        ("name IN ('a')", r"Invalid comparator for attribute 'name': 'IN' at position 5"),
        ("creation_time LIKE '1'", r"'creation_time': 'LIKE' at position 14"),
        ("creation_time = 'a'", r"Expected a numeric value .* found \"'a'\" at position 16"),
        ("experiment_id = 'abc'", r"Invalid experiment id 'abc' at position 16"),
        ("experiment_id IN ('1', 'x')", r"Invalid experiment id 'x' at position 23"),
        ("experiment_id > '1'", r"'experiment_id': '>' at position 14"),
        ("lifecycle_stage = 'active'", r"Invalid attribute key 'lifecycle_stage'"),
        ("name = 'a' OR name = 'b'", r"'OR' at position 11 .*only AND"),
    ],
)
def test_experiments_filter_errors(filter_string: str, message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        parse_experiments_filter(filter_string)


def test_experiments_order_by() -> None:
    assert parse_experiments_order_by(
        ["name", "attributes.creation_time DESC", "last_update_time asc", "experiment_id"]
    ) == [
        OrderBy("attribute", "name", True),
        OrderBy("attribute", "creation_time", False),
        OrderBy("attribute", "last_update_time", True),
        OrderBy("attribute", "experiment_id", True),
    ]


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("tags.team", r"Cannot order experiments by 'tags.team' at position 0"),
        ("start_time", r"Invalid attribute key 'start_time'"),
    ],
)
def test_experiments_order_by_errors(item: str, message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        parse_experiments_order_by([item])


# ------------------------------------------------------------------------------ page tokens
@pytest.mark.parametrize("offset", [0, 1, 100, 10**12])
def test_page_token_round_trip(offset: int) -> None:
    token = encode_page_token(offset)
    assert isinstance(token, str)
    assert decode_page_token(token) == offset


def test_page_token_is_mlflows_format() -> None:
    assert encode_page_token(100) == base64.b64encode(b'{"offset": 100}').decode()
    assert decode_page_token(base64.b64encode(b'{"offset": "7"}').decode()) == 7


@pytest.mark.parametrize("token", [None, ""])
def test_no_page_token_is_offset_zero(token: str | None) -> None:
    assert decode_page_token(token) == 0


@pytest.mark.parametrize(
    "token",
    [
        "not base64!",
        "abc",
        base64.b64encode(b"not json").decode(),
        base64.b64encode(b"[1, 2]").decode(),
        base64.b64encode(b'{"offset": -1}').decode(),
        base64.b64encode(b'{"offset": 1.5}').decode(),
        base64.b64encode(b'{"offset": true}').decode(),
        base64.b64encode(b'{"nope": 1}').decode(),
        base64.b64encode(b"\xff\xfe").decode(),
    ],
)
def test_bad_page_token_names_the_token(token: str) -> None:
    with pytest.raises(InvalidParameter, match=re.escape(repr(token))):
        decode_page_token(token)


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (base64.b64encode(b'{"offset": ' + b"9" * 50_000 + b"}").decode(), "longer than 49152"),
        (base64.b64encode(b'{"offset": "' + b"9" * 50_000 + b'"}').decode(), "longer than 49152"),
        (base64.b64encode(b'{"offset": "' + b"9" * 700 + b'"}').decode(), "'offset'"),
        (base64.b64encode(b'{"offset": ' + b"9" * 700 + b"}").decode(), "beyond the largest"),
        (base64.b64encode(b'{"offset": "\xc2\xb2"}').decode(), "'offset'"),  # a digit, not ASCII
        (base64.b64encode(b"[" * 600).decode(), "not base64-encoded JSON"),
        ("\ud800", "not base64-encoded JSON"),
        ("x" * 100_000, "longer than 49152 characters"),
    ],
    ids=[
        "50000-digits", "50000-digit-string", "700-digit-string", "700-digits", "superscript-digit",
        "nested-json", "surrogate", "huge",
    ],
)  # fmt: skip
def test_hostile_page_tokens_are_invalid_parameters(token: str, message: str) -> None:
    with pytest.raises(InvalidParameter, match=re.escape(message)) as caught:
        decode_page_token(token)
    assert len(caught.value.message) < 300  # the token is shown shortened


def test_page_offsets_are_bounded() -> None:
    assert decode_page_token(encode_page_token(2**62)) == 2**62
    with pytest.raises(InvalidParameter, match="beyond the largest page offset"):
        decode_page_token(encode_page_token(2**62 + 1))
