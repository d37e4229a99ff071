"""An entry point's command, rendered so that no parameter value ever becomes shell text.

MLflow substitutes ``shlex.quote``-d values into the template. Quoting is only right where the
placeholder stands unquoted: in ``echo "x {p}"`` the value's own quotes are literal characters
inside the double quotes, and ``p=$(touch /tmp/pwn)`` runs. Here each placeholder becomes a
reference to an environment variable (``MLFLOWX_PARAM_<n>``) that holds the value, and the shell
expands it as data, never as code, wherever it stands:

- unquoted (``--alpha {alpha}``): ``"${MLFLOWX_PARAM_0}"``, one word, as MLflow's quoting gives;
- inside double quotes (``"x {p}"``): ``${MLFLOWX_PARAM_0}``, the value in place;
- inside single quotes (``'x {p}'``, or ``$'x {p}'``): the quotes are closed around
  ``"${MLFLOWX_PARAM_0}"`` and reopened, so the value still arrives verbatim.

The quoting context is read from the template with a small scanner that knows backslashes,
``'...'``, ``$'...'``, ``"..."``, ``$(...)``, backticks and ``#`` comments. It does not parse
here-documents: a placeholder in a here-document's body shows the reference's quotes. Were the
scanner ever wrong, a value could be split into words or globbed, never run: values only ever
reach the shell through the environment.
"""

from __future__ import annotations

import shlex
import string
from collections.abc import Mapping
from dataclasses import dataclass, field

from mlflowx.exceptions import InvalidParameter

__all__ = ["PARAM_ENV_PREFIX", "Command", "render_command"]

PARAM_ENV_PREFIX = "MLFLOWX_PARAM_"

_PLAIN, _SUBSHELL, _BACKTICK, _DOUBLE, _SINGLE, _ANSI, _COMMENT = range(7)
#: Characters after which a ``#`` starts a comment (it must begin a word).
_WORD_BREAKS = frozenset(" \t\n;&|()<>")


@dataclass(frozen=True)
class Command:
    """What runs: ``bash -c text`` with ``env`` added to the environment."""

    text: str
    env: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        """The command and its parameter values, for logs."""
        if not self.env:
            return self.text
        values = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env.items())
        return f"{self.text}  # with {values}"


class _Quotes:
    """The shell's quoting context at the end of the text fed so far."""

    def __init__(self) -> None:
        self.stack = [_PLAIN]
        self.parens = [0]  # open "(" inside each $( ... )
        self.escaped = False
        self.previous = "\n"

    @property
    def context(self) -> int:
        return self.stack[-1]

    def feed(self, text: str) -> None:
        i = 0
        while i < len(text):
            i = self._step(text, i)

    def placeholder(self) -> None:
        """A value stands here: it ends any backslash escape and counts as a word."""
        self.escaped = False
        self.previous = "x"

    def _step(self, text: str, i: int) -> int:
        char, top = text[i], self.stack[-1]
        nxt = text[i + 1] if i + 1 < len(text) else ""
        self.previous, previous = char, self.previous
        if self.escaped:
            self.escaped = False
            return i + 1
        if top == _COMMENT:
            if char == "\n":
                self.stack.pop()
            return i + 1
        if top == _SINGLE:
            if char == "'":
                self.stack.pop()
            return i + 1
        if char == "\\" and top != _SINGLE:
            self.escaped = True
            return i + 1
        if top == _ANSI:
            if char == "'":
                self.stack.pop()
            return i + 1
        if char == "$" and nxt == "(":
            self.stack.append(_SUBSHELL)
            self.parens.append(0)
            self.previous = "("
            return i + 2
        if char == "`":
            if top == _BACKTICK:
                self.stack.pop()
            else:
                self.stack.append(_BACKTICK)
            return i + 1
        if top == _DOUBLE:
            if char == '"':
                self.stack.pop()
            return i + 1
        # Unquoted: top level, inside $( ... ) or inside backticks.
        if char == "#" and previous in _WORD_BREAKS:
            self.stack.append(_COMMENT)
        elif char == "$" and nxt == "'":
            self.stack.append(_ANSI)
            return i + 2
        elif char == "'":
            self.stack.append(_SINGLE)
        elif char == '"':
            self.stack.append(_DOUBLE)
        elif top == _SUBSHELL and char == "(":
            self.parens[-1] += 1
        elif top == _SUBSHELL and char == ")":
            if self.parens[-1] == 0:
                self.stack.pop()
                self.parens.pop()
            else:
                self.parens[-1] -= 1
        return i + 1


def _reference(name: str, context: int) -> str:
    if context == _DOUBLE:
        return f"${{{name}}}"
    if context == _SINGLE:
        return f"'\"${{{name}}}\"'"
    if context == _ANSI:
        return f"'\"${{{name}}}\"$'"
    return f'"${{{name}}}"'


def render_command(
    template: str, values: Mapping[str, str], extra: Mapping[str, str], where: str
) -> Command:
    """``template`` (``str.format`` placeholders) with every value passed by environment.

    ``values`` are the declared parameters as text; ``extra`` (undeclared ones) are appended as
    ``--key value``.
    """
    formatter = string.Formatter()
    quotes = _Quotes()
    env: dict[str, str] = {}
    parts: list[str] = []

    def bind(name: str, value: str) -> str:
        if "\x00" in value:
            raise InvalidParameter(
                f"Parameter {name!r} of {where} contains a NUL character, which no command "
                "line or environment can carry"
            )
        var = f"{PARAM_ENV_PREFIX}{len(env)}"
        env[var] = value
        return var

    for literal, field_name, spec, conversion in formatter.parse(template):
        parts.append(literal)
        quotes.feed(literal)
        if field_name is None:
            continue
        if quotes.escaped:
            raise InvalidParameter(
                f"The command of {where} puts a backslash right before {{{field_name}}}; "
                "remove it (values are passed verbatim, no escaping is needed)"
            )
        obj, _ = formatter.get_field(field_name, (), values)
        text = formatter.format_field(formatter.convert_field(obj, conversion), spec or "")
        parts.append(_reference(bind(field_name, text), quotes.context))
        quotes.placeholder()
    for key, value in extra.items():
        parts.append(f" --{shlex.quote(key)} {_reference(bind(key, value), _PLAIN)}")
    return Command("".join(parts), env)
