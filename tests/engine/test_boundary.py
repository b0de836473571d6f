"""The pipeline's data access goes through the engine protocol: the step packages name no
backend (no DuckDB or Spark import, no raw connection, no ``Store``), so a step runs on any
``huiyan.engine.Engine``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "huiyan"
# Converted to the protocol; ingest internals (a DuckDB staging program behind
# Engine.local_store), export and the service are not listed yet.
ENGINE_ONLY = [
    "pipeline",
    "pricing",
    "grouping",
    "quality",
    "monitor",
    "settlement",
    "audit/inputs.py",
    "audit/api.py",
    "report/summary.py",
    "report/monitor_workbook.py",
    "report/payment_workbook.py",
    "report/calibration_workbook.py",
]
BACKENDS = ("duckdb", "pyspark", "_duckdb")


def _files() -> list[Path]:
    out: list[Path] = []
    for entry in ENGINE_ONLY:
        p = SRC / entry
        out += sorted(p.rglob("*.py")) if p.is_dir() else [p]
    return out


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text("utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] in BACKENDS]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in BACKENDS:
                found.append(node.module)
            if node.module.startswith("huiyan.engine") and any(
                a.name == "Store" for a in node.names
            ):
                found.append("huiyan.engine.Store")
        elif isinstance(node, ast.Attribute) and node.attr == "con":
            found.append(f".con (line {node.lineno})")
        elif isinstance(node, ast.Attribute) and node.attr in ("duckdb", "pyspark"):
            found.append(f".{node.attr} (line {node.lineno})")
    return found


@pytest.mark.parametrize("path", _files(), ids=lambda p: str(p.relative_to(SRC)))
def test_step_code_names_no_backend(path: Path) -> None:
    assert _violations(path) == []


def test_the_check_sees_a_backend_name(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import duckdb\nfrom huiyan.engine import Store\n"
        "def f(store):\n    return store.con.sql('select 1')\n",
        "utf-8",
    )
    assert _violations(bad) == ["duckdb", "huiyan.engine.Store", ".con (line 4)"]
