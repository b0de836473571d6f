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
    """Turn huiyan's user-facing errors into a red message and exit code 2, not a traceback."""
    from huiyan.errors import HuiyanError

    try:
        yield
    except HuiyanError as exc:
        err_console.print(f"[bold red]错误 error:[/] {exc}")
        raise typer.Exit(2) from exc
