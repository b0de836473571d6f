"""A small synthetic region loaded, grouped and priced in a store (for end-to-end audit tests)."""

from __future__ import annotations

from pathlib import Path

from huiyan.engine import Store
from huiyan.kb import config
from huiyan.pipeline.context import RunContext

from .dataset import load_folder


def build_region(folder: Path, *, cases: int, seed: int) -> tuple[Path, Path]:
    """Generate a region under ``folder``; returns (database, labels.csv)."""
    from huiyan.pipeline.steps import group, price
    from huiyan.synth.generate import generate

    report = generate(folder / "data", cases=cases, seed=seed, labels_dir=folder / "labels")
    db = folder / "region.duckdb"
    with Store(db) as store:
        load_folder(store, folder / "data")
        ctx = RunContext(store, config.load(), folder / "data", show_progress=False)
        group.run(ctx)
        price.run(ctx)
    return db, report.labels_path
