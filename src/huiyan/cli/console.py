"""Shared Rich console and progress helpers of the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

console = Console()
err_console = Console(stderr=True)


def progress() -> Progress:
    """A progress display for long steps (transient: it disappears when done)."""
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn ordinary mistakes into one red line and exit code 2, not a traceback.

    The root command group does the same for every command (``cli/errors.py``); this keeps
    it for commands registered on another app (tests build small apps of one area).
    """
    from huiyan.cli.errors import describe, report

    try:
        yield
    except Exception as exc:
        if describe(exc) is None:
            raise
        raise typer.Exit(report(exc)) from exc


def text(value: object, *, enum: str | None = None, money: bool = False) -> str:
    """A cell as an auditor reads it: labels for codes, thousands separators for numbers."""
    from decimal import Decimal

    if value is None:
        return ""
    if enum is not None and isinstance(value, str):
        from huiyan.model import label

        return label(enum, value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, Decimal | float):
        return f"{value:,.2f}" if money or isinstance(value, Decimal) else f"{value:,.4g}"
    return str(value)


def table(
    title: str, columns: list[str], numeric: tuple[str, ...] = (), codes: tuple[str, ...] = ()
) -> Table:
    """A Rich table whose text columns fold and whose numbers and codes never break.

    Light borders (no outer edge) leave the width to the content: at 80 columns a table of
    eight money columns still shows every figure whole.
    """
    from rich import box

    t = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, collapse_padding=True)
    for col in columns:
        if col in numeric:
            t.add_column(col, justify="right", no_wrap=True)
        elif col in codes:
            t.add_column(col, no_wrap=True)
        else:
            t.add_column(col, overflow="fold")
    return t


def is_code(column: str) -> bool:
    """Identifier-like columns (codes, ids) that must be shown unbroken."""
    return column.endswith(("code", "_id", "_no", "prefix")) or column in ("drg", "adrg", "mdc")


def medins_names(store: object) -> dict[str, str]:
    """Institution code -> name, from the store's ``medins`` table (empty when absent)."""
    from huiyan.engine import Engine

    assert isinstance(store, Engine)
    if not store.has("medins"):
        return {}
    rows = store.to_arrow(store.table("medins").select("medins_code", "medins_name")).to_pylist()
    return {r["medins_code"]: r["medins_name"] or "" for r in rows}
