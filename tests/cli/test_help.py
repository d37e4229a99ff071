"""Every command's ``--help``: click's plain layout, whole option names, click's type names."""

from __future__ import annotations

import pytest
from typer import _click as click

from mlflowx.cli import command, main


def _paths(cmd: click.Command, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, sub in sorted(getattr(cmd, "commands", {}).items()):
        found += _paths(sub, (*prefix, name))
    return found


PATHS = _paths(command())


def test_every_command_is_listed() -> None:
    assert {("gc",), ("doctor",), ("artifacts", "download"), ("runs", "create")} <= set(PATHS)


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "mlflowx")
def test_help_is_plain_and_whole(path: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit, match=r"^0$"):
        main([*path, "--help"])
    out = capsys.readouterr().out
    assert out.startswith(f"Usage: {' '.join(('mlflowx', *path))} ")
    assert "\nOptions:\n" in out  # click's plain layout, not Typer's panels
    assert "<str>" not in out
    assert "<int>" not in out
    assert "{" not in out.splitlines()[0]  # arguments as click writes them: NAME
    assert "…" not in out  # no option name or value cut
    assert "╭" not in out


def test_commands_without_subcommands_do_not_claim_them(capsys: pytest.CaptureFixture[str]) -> None:
    for path in (("server",), ("ui",), ("gc",), ("doctor",)):
        with pytest.raises(SystemExit, match=r"^0$"):
            main([*path, "--help"])
        first = capsys.readouterr().out.splitlines()[0]
        assert first == f"Usage: mlflowx {path[0]} [OPTIONS]"


def test_option_types_read_as_in_mlflow(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit, match=r"^0$"):
        main(["runs", "list", "--help"])
    out = capsys.readouterr().out
    assert "-n, --max-results INTEGER" in out
    assert "-o, --output [table|json|csv]" in out
    assert "--tracking-uri TEXT" in out


def test_a_missing_argument_is_named_as_in_click(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit, match=r"^2$"):
        main(["runs", "describe"])
    err = capsys.readouterr().err
    assert "Usage: mlflowx runs describe [OPTIONS] [RUN_ID]" in err
    assert "Missing argument 'RUN_ID' (or --run-id)." in err
