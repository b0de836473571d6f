"""``huiyan ingest DATA_DIR``: load a dataset folder into the store, quarantining bad rows."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer


def register(app: typer.Typer) -> None:
    """Register ``ingest`` (filled in below once the ingest package lands)."""
