"""Commands: a parameter value is never shell text, wherever its placeholder stands.

Each payload would run ``touch pwned`` if it reached the shell as code (MLflow's ``shlex.quote``
rendering lets several through inside quotes); here every one arrives verbatim as data.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mlflowx.exceptions import InvalidParameter
from mlflowx.projects.command import PARAM_ENV_PREFIX, Command, render_command
from mlflowx.projects.envs import LocalEnvironment, RunHandle

ARGV = "python -c 'import sys; print(repr(sys.argv[1:]))'"
PAYLOADS = [
    "$(touch pwned)",
    "`touch pwned`",
    '"; touch pwned; "',
    "' ; touch pwned ; '",
    "'\"$(touch pwned)\"'",
    "a\ntouch pwned",
    "x\n'\ntouch pwned\n'",
    '\\"; touch pwned #',
    "${IFS}touch${IFS}pwned",
    "$'\\x27'; touch pwned",
    "*",
    "  two  spaces  ",
    "",
]
# (template, what the program must receive for a value v)
TEMPLATES = {
    "unquoted": (f"{ARGV} {{p}}", lambda v: [v]),
    "adjacent": (f"{ARGV} --p={{p}}x", lambda v: [f"--p={v}x"]),
    "double-quoted": (f'{ARGV} "x {{p}} y"', lambda v: [f"x {v} y"]),
    "single-quoted": (f"{ARGV} 'x {{p}} y'", lambda v: [f"x {v} y"]),
    "ansi-c-quoted": (f"{ARGV} $'x\\t{{p}}'", lambda v: [f"x\t{v}"]),
    "twice-mixed": (f"{ARGV} {{p}} \"{{p}}\" '{{p}}'", lambda v: [v, v, v]),
    "in-subshell": (f'{ARGV} "$(printf %s {{p}})"', lambda v: [v.rstrip("\n")]),
    "in-backticks": (f'{ARGV} "`printf %s {{p}}`"', lambda v: [v.rstrip("\n")]),
    "after-a-comment": (f'# don\'t "worry"\n{ARGV} {{p}}', lambda v: [v]),
    "escaped-quotes": (f'{ARGV} "\\"{{p}}\\"" \\\'{{p}}', lambda v: [f'"{v}"', f"'{v}"]),
}


def run(command: Command, cwd: Path) -> list[str]:
    lines: list[str] = []
    code = LocalEnvironment().run(command.text, cwd, command.env, lines.append, RunHandle())
    assert code == 0, (command, lines)
    return lines


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("case", TEMPLATES)
def test_values_arrive_verbatim_and_run_nothing(tmp_path: Path, case: str, payload: str) -> None:
    template, expected = TEMPLATES[case]
    command = render_command(template, {"p": payload}, {"extra": payload}, "entry point 'main'")
    assert payload not in command.text or payload in ("", "*")  # values live in the env only
    lines = run(command, tmp_path)
    assert not (tmp_path / "pwned").exists()
    assert lines == [repr([*expected(payload), "--extra", payload])]


def test_the_issue_example_echo_in_double_quotes(tmp_path: Path) -> None:
    command = render_command('echo "x {p}"', {"p": "$(touch pwned)"}, {}, "main")
    assert run(command, tmp_path) == ["x $(touch pwned)"]
    assert not (tmp_path / "pwned").exists()


def test_ordinary_templates_keep_mlflow_behaviour(tmp_path: Path) -> None:
    command = render_command(
        f"{ARGV} --alpha {{alpha}} --l1={{l1}} {{name!r}} {{n:>4}}",
        {"alpha": "0.5", "l1": "0.1", "name": "run 1", "n": "7"},
        {"lr": "0.01"},
        "main",
    )
    assert run(command, tmp_path) == [
        repr(["--alpha", "0.5", "--l1=0.1", "'run 1'", "   7", "--lr", "0.01"])
    ]
    assert command.env == {f"{PARAM_ENV_PREFIX}{i}": v for i, v in
                           enumerate(["0.5", "0.1", "'run 1'", "   7", "0.01"])}  # fmt: skip
    assert "MLFLOWX_PARAM_2=''\"'\"'run 1'\"'\"''" in command.describe()


def test_braces_and_dollars_of_the_template_stay_shell_syntax(tmp_path: Path) -> None:
    template = ARGV.replace("{", "{{").replace("}", "}}") + ' "${{X}}" {p} "$((1 + 2))"'
    command = render_command("X=1; " + template, {"p": "v"}, {}, "m")
    assert run(command, tmp_path) == [repr(["1", "v", "3"])]


def test_a_backslash_before_a_placeholder_is_refused() -> None:
    with pytest.raises(InvalidParameter, match=r"backslash right before \{p\}"):
        render_command("echo \\{p}", {"p": "v"}, {}, "entry point 'main'")


def test_a_nul_in_a_value_is_refused() -> None:
    with pytest.raises(InvalidParameter, match="'p' of entry point 'main' contains a NUL"):
        render_command("echo {p}", {"p": "a\x00b"}, {}, "entry point 'main'")
