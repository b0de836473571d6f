"""What every pipeline step receives and returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from huiyan.engine import Store


@dataclass
class RunContext:
    """The store, the configuration (all sections, see ``kb.config``) and the dataset folder."""

    store: Store
    config: dict[str, dict[str, Any]]
    data_dir: Path | None = None
    engine: str = "duckdb"
    show_progress: bool = True
    force: bool = False  # re-run steps whose inputs did not change (ingest re-reads its files)


@dataclass
class StepReport:
    """What a step did: rows written per table, and notes for the summary."""

    step: str
    rows: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    skipped: bool = False
    seconds: float = 0.0
