"""A newcomer's first hour, on the installed wheel, from outside the checkout: every command
once as the README shows it and once with an ordinary mistake (one clear line, exit code 2)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.install.conftest import Installed

pytestmark = pytest.mark.wheel

REPO = Path(__file__).resolve().parents[2]
CASES = REPO / "tests" / "data" / "reference" / "chs-drg-1.1" / "sample_cases.csv"


def _ok(installed: Installed, *args: str) -> str:
    proc = installed.huiyan(*args)
    assert proc.returncode == 0, f"{args}\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stdout + proc.stderr
    return proc.stdout


def _mistake(installed: Installed, *args: str, says: str) -> None:
    proc = installed.huiyan(*args)
    assert proc.returncode == 2, f"{args}\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("错误 error:"), proc.stderr
    assert says in lines[0], lines[0]


def test_version_and_help(installed: Installed) -> None:
    assert _ok(installed, "--version").startswith("huiyan ")
    assert "demo" in _ok(installed, "--help")


def test_each_command_right_and_wrong(installed: Installed, demo: Path) -> None:
    db = str(demo / "huiyan.duckdb")
    work = installed.work

    _ok(installed, "synth", "north", "--cases", "80", "--seed", "3", "--months", "1")
    assert (work / "north-labels" / "labels.csv").is_file()
    _mistake(installed, "synth", "x", "--cases", "10", "--format", "xml", says="xml")

    _ok(installed, "ingest", "north", "--db", "north.duckdb")
    _mistake(installed, "ingest", "nowhere", "--db", "n2.duckdb", says="nowhere")
    assert not (work / "n2.duckdb").exists()

    out = _ok(installed, "run", "north", "--db", "north.duckdb")
    assert (
        "[5/6] 审核 audit" in out
        and "[6/6] 监测 monitor" in out
        and (work / "north-report.html").is_file()
    )
    _mistake(installed, "run", "north", "--steps", "ingest,grp", "--db", "north.duckdb", says="grp")

    _ok(installed, "qc", "--db", db, "--out", "qc")
    assert list((work / "qc").glob("质控报告_*.xlsx"))
    _mistake(installed, "qc", "--db", "hiuyan.duckdb", says="hiuyan.duckdb")
    _mistake(installed, "qc", "--db", db, "--explain", "NOPE", says="NOPE")
    assert not (work / "hiuyan.duckdb").exists()

    _ok(installed, "price", "--db", db, "--report", "sim.xlsx")
    assert (work / "sim.xlsx").is_file()
    _mistake(installed, "price", "--db", db, "--report", "missing/sim.xlsx", says="missing")

    _ok(installed, "settle", "--db", db, "--period", "2025-12")
    _mistake(installed, "settle", "--db", db, "--period", "12/2025", says="YYYY-MM")

    _ok(installed, "audit", "--db", db)
    _mistake(installed, "audit", "--db", db, "--stage", "later", says="later")

    _ok(installed, "rules", "list", "--format", "xlsx", "--out", "rules.xlsx")
    _mistake(installed, "rules", "list", "--format", "pdf", says="pdf")

    labels = str(demo / "labels" / "labels.csv")
    assert "精确率" in _ok(installed, "evaluate", "--db", db, "--labels", labels)
    _mistake(
        installed,
        "evaluate",
        "--db",
        db,
        "--labels",
        str(work / "north-labels" / "labels.csv"),
        says="不匹配",
    )

    assert "阿帕他胺片" in _ok(installed, "kb", "lookup", "XL02BBA326A001010102180")
    _mistake(installed, "kb", "lookup", "NOPE123", says="NOPE123")
    _ok(installed, "kb", "export", "surgery_discount", "--out", "sd.xlsx")
    _mistake(installed, "kb", "export", "nope", "--out", "x.csv", says="nope")

    _ok(installed, "export", "finding", "--db", db, "--out", "findings.xlsx")
    _mistake(installed, "export", "finding", "--db", db, "--out", "f.json", says=".json")

    shutil.copy(CASES, work / "cases.csv")
    _ok(installed, "group", "--cases", "cases.csv", "--out", "grouped.csv")
    assert (work / "grouped.csv").is_file()
    _mistake(installed, "group", "--cases", "nocases.csv", "--out", "g.csv", says="nocases.csv")
    _ok(installed, "group", "diff", "--from", "chs-drg-1.1", "--to", "chs-drg-1.0", "--db", db)
    _mistake(
        installed,
        "group",
        "diff",
        "--from",
        "chs-drg-1.1",
        "--to",
        "chs-drg-1.0",
        "--db",
        "nope.duckdb",
        says="nope.duckdb",
    )
