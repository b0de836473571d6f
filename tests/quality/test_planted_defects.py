"""Synthetic regions end to end (synth -> ingest -> group -> qc).

With planted data defects (``synth.defects``), every defect is reported by its check on its
case and field, and no error is reported that the defects do not explain. A clean region (no
defects, no violations) yields no error-level issue at all.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from huiyan.cli import synth as synth_cli
from huiyan.engine import Store
from huiyan.ingest import ingest
from huiyan.kb import config
from huiyan.pipeline.context import RunContext
from huiyan.pipeline.steps import group
from huiyan.quality.service import run_qc
from huiyan.quality.spec import by_id
from huiyan.synth.defects import kind_specs
from huiyan.synth.generate import SynthReport, generate


@dataclass
class Region:
    synth: SynthReport
    quarantined: dict[str, int]
    issues: list[dict[str, Any]]

    def labels(self, name: str) -> list[dict[str, str]]:
        with (self.synth.labels_path.parent / name).open(encoding="utf-8") as fh:
            return list(csv.DictReader(fh))


def _region(folder: Path, **options: Any) -> Region:
    report = generate(folder / "data", labels_dir=folder / "labels", **options)
    cfg = config.load()
    with Store(folder / "region.duckdb") as store:
        loaded = ingest(folder / "data", store, cfg)
        group.run(RunContext(store, cfg, folder / "data", show_progress=False))
        issues = run_qc(store, cfg).issues.to_pylist()
    quarantined = {name: c.quarantined for name, c in loaded.tables.items() if c.quarantined}
    return Region(report, quarantined, issues)


@pytest.fixture(scope="module")
def defected(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Region]:
    # Violations planted too (default rate), so the test sees that defects avoid them.
    yield _region(tmp_path_factory.mktemp("defects"), cases=1200, seed=3, months=3, defect_rate=0.1)


def test_defects_are_not_quarantined(defected: Region) -> None:
    assert defected.quarantined == {}


def test_every_kind_is_planted_and_declares_real_checks(defected: Region) -> None:
    labels = defected.labels("qc_defects.csv")
    assert len(kind_specs()) >= 20
    assert {r["kind"] for r in labels} == set(kind_specs())
    assert {r["check_id"] for r in labels} <= set(by_id())
    assert defected.synth.defects == len({(r["setl_id"], r["kind"]) for r in labels})


def test_every_planted_defect_is_reported_on_its_case_and_field(defected: Region) -> None:
    reported = {(i["setl_id"], i["check_id"], i["field"]) for i in defected.issues}
    missed = [
        r
        for r in defected.labels("qc_defects.csv")
        if (r["setl_id"], r["check_id"], r["field"]) not in reported
    ]
    assert missed == []


def test_defects_avoid_violation_cases(defected: Region) -> None:
    violations = {r["setl_id"] for r in defected.labels("labels.csv")}
    assert violations, "the region should carry violations"
    assert not violations & {r["setl_id"] for r in defected.labels("qc_defects.csv")}


def test_no_error_beyond_the_planted_defects(defected: Region) -> None:
    # Violation cases may show QC errors (fees after discharge are a fee-time error too).
    violations = {r["setl_id"] for r in defected.labels("labels.csv")}
    expected = {(r["setl_id"], r["check_id"]) for r in defected.labels("qc_defects.csv")}
    unexplained = [
        (i["setl_id"], i["check_id"], i["message"])
        for i in defected.issues
        if i["severity"] == "error"
        and i["setl_id"] not in violations
        and (i["setl_id"], i["check_id"]) not in expected
    ]
    assert unexplained == []


def test_defects_leave_the_other_cases_unchanged(defected: Region, tmp_path: Path) -> None:
    plain = generate(tmp_path / "data", cases=1200, seed=3, months=3, labels_dir=tmp_path / "l")
    assert plain.defects_path is None and not (tmp_path / "l" / "qc_defects.csv").exists()
    damaged = {r["setl_id"] for r in defected.labels("qc_defects.csv")}

    def rows(folder: Path) -> dict[str, str]:
        lines = (folder / "setl_list.csv").read_text("utf-8").splitlines()[1:]
        return {line.split(",")[0].strip('"'): line for line in lines}

    a, b = rows(plain.out_dir), rows(defected.synth.out_dir)
    assert a.keys() == b.keys()
    changed = {k for k in a if a[k] != b[k]}
    assert changed and changed <= damaged
    assert (plain.labels_path.read_text("utf-8")) == defected.synth.labels_path.read_text("utf-8")


def test_clean_region_has_no_errors(tmp_path: Path) -> None:
    region = _region(tmp_path, cases=2000, seed=11, violation_rate=0.0)
    assert region.quarantined == {}
    errors = [
        (i["setl_id"], i["check_id"], i["message"])
        for i in region.issues
        if i["severity"] == "error"
    ]
    assert errors == []


def test_synth_cli_defect_rate(tmp_path: Path) -> None:
    app = typer.Typer()
    synth_cli.register(app)
    app.command("noop")(lambda: None)  # two commands, so typer keeps the sub-command name
    res = CliRunner().invoke(
        app,
        ["synth", str(tmp_path / "data"), "--cases", "150", "--months", "1"]
        + ["--defect-rate", "0.2", "--labels-dir", str(tmp_path / "labels")],
    )
    assert res.exit_code == 0, res.output
    with (tmp_path / "labels" / "qc_defects.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and set(rows[0]) == {"setl_id", "kind", "check_id", "field", "description"}
