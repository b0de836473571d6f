"""Detection quality on synthetic regions (issue 7, docs/violations.md): the whole pipeline.

Each region is generated, then ingested, grouped, checked, priced and audited exactly as
``huiyan run`` does; the findings are scored against the region's labels at case level.
Targets: precision and recall ≥ 0.95 for every class of docs/design.md §5 on each seed, and no
violation-severity finding at all in a clean region (violation rate 0).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from huiyan.audit.evaluate import evaluate, read_labels
from huiyan.audit.spec import SEVERITY_VIOLATION
from huiyan.engine import Store
from huiyan.kb import config
from huiyan.model.enums import codes
from huiyan.model.tables import FINDING
from huiyan.pipeline.context import RunContext
from huiyan.pipeline.runner import run_steps
from huiyan.synth.generate import generate

pytestmark = pytest.mark.slow

CASES = 20_000
SEEDS = (2025, 7, 42)
TARGET = 0.95


def _findings(folder: Path, *, seed: int, violation_rate: float) -> tuple[pa.Table, Path]:
    """Generate a region under ``folder``, run the pipeline; (findings, labels.csv)."""
    report = generate(
        folder / "data",
        cases=CASES,
        seed=seed,
        violation_rate=violation_rate,
        labels_dir=folder / "labels",
    )
    with Store(folder / "region.duckdb") as store:
        run_steps(RunContext(store, config.load(), folder / "data", show_progress=False))
        return store.read(FINDING.name), report.labels_path


@pytest.mark.parametrize("seed", SEEDS)
def test_every_class_is_found_with_precision_and_recall_of_95_percent(
    tmp_path: Path, seed: int
) -> None:
    findings, labels_path = _findings(tmp_path, seed=seed, violation_rate=0.05)
    rows = {
        r["vola_bhvr_type"]: r for r in evaluate(findings, read_labels(labels_path)).to_pylist()
    }
    classes = list(codes("vola_bhvr_type"))
    assert set(rows) == set(classes)
    unplanted = [c for c in classes if rows[c]["labels"] == 0]
    assert not unplanted, f"seed {seed}: classes without planted cases: {unplanted}"
    short = {
        c: (r["tp"], r["fp"], r["fn"], round(r["precision"] or 0, 3), round(r["recall"] or 0, 3))
        for c, r in rows.items()
        if (r["precision"] or 0) < TARGET or (r["recall"] or 0) < TARGET
    }
    assert not short, f"seed {seed}: (tp, fp, fn, precision, recall) below {TARGET}: {short}"


def test_clean_region_has_no_violation_findings(tmp_path: Path) -> None:
    findings, labels_path = _findings(tmp_path, seed=11, violation_rate=0.0)
    assert read_labels(labels_path).num_rows == 0
    violations = findings.filter(pc.equal(findings.column("sev_deg"), SEVERITY_VIOLATION))
    shown = violations.select(["rule_id", "setl_id", "vola_cont"]).slice(0, 10).to_pylist()
    assert violations.num_rows == 0, f"{violations.num_rows} violation findings, e.g. {shown}"
