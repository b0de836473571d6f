"""What every pipeline step receives and returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from huiyan.engine import Engine


@dataclass
class RunContext:
    """The engine (where tables live and expressions run, chosen by ``--engine``), the
    configuration (all sections, see ``kb.config``) and the dataset folder."""

    engine: Engine
    config: dict[str, dict[str, Any]]
    data_dir: Path | None = None
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
