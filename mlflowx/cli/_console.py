"""Printing rich tables: on a terminal they fold to its width; into a pipe or a file they keep
their natural width, so no value is cut or wrapped at 80 columns."""

from __future__ import annotations

from typing import Any


def print_table(table: Any) -> None:
    from rich.console import Console
    from rich.measure import Measurement

    console = Console()
    if not console.is_terminal:
        options = console.options.update_width(100_000)
        natural = Measurement.get(console, options, table).maximum
        console = Console(width=max(natural, console.width))
    console.print(table)
