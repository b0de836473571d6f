"""CLI commands of the price step (placeholder until its issue lands)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Register this area's commands on ``app``."""
