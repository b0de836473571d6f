"""``huiyan export TABLE --db FILE --out FILE``: write a stored table as CSV, Parquet or XLSX."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer


def register(app: typer.Typer) -> None:
    """Register ``export``."""
