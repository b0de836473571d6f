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
