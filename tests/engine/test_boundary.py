"""The pipeline's data access goes through the engine protocol: the step packages name no
backend (no DuckDB or Spark import, no raw connection, no ``Store``), so a step runs on any
``huiyan.engine.Engine``; and nothing in ``src/huiyan`` outside ``huiyan.engine`` names a
backend at all, in code, comments, help texts or data files (issue #20)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "huiyan"
# Converted to the protocol. The programs that are local by nature (ingest's staging behind
# Engine.local_store, export, the service's snapshot readers) speak the local store's SQL
# through huiyan.engine.local instead, so they are not listed here.
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


# --------------------------------------------------------------------------- backend names
# A backend's name as a word, case-insensitive; "_" separates words here (``_duckdb``,
# ``spark_master`` are names too), so an identifier cannot slip through.
BACKEND_WORD = re.compile(r"(?<![a-z0-9])(duckdb|pyspark|spark)(?![a-z0-9])", re.IGNORECASE)
# Where a backend may be named, with the reason. Everything else in src/huiyan may not.
ALLOWED = {
    # The backends live here: the engine protocol's implementations and the local store.
    "engine": "the engines themselves",
}


def _allowed(path: Path) -> bool:
    rel = path.relative_to(SRC)
    return any(rel == Path(entry) or Path(entry) in rel.parents for entry in ALLOWED)


def _text_files(root: Path) -> list[Path]:
    out = []
    for p in sorted(root.rglob("*")):
        if not p.is_file() or "__pycache__" in p.parts:
            continue
        if b"\0" in p.read_bytes()[:8192]:
            continue  # binary (none today; an image or a font would be)
        out.append(p)
    return out


def _backend_names(path: Path) -> list[str]:
    text = path.read_text("utf-8")
    return [
        f"{i}: {line.strip()}"
        for i, line in enumerate(text.splitlines(), start=1)
        if BACKEND_WORD.search(line)
    ]


def test_nothing_outside_the_engine_names_a_backend() -> None:
    files = [p for p in _text_files(SRC) if not _allowed(p)]
    assert len(files) > 300  # the walk sees the package, code and data
    found = {str(p.relative_to(SRC)): names for p in files if (names := _backend_names(p))}
    assert found == {}


def test_the_word_check_sees_a_backend_name(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        'import duckdb\nMASTER = "--spark-master"\nx = _duckdb\n'
        "# runs on PySpark\nDuckDBPyConnection\nsparkle = 1\n",
        "utf-8",
    )
    assert [n.split(":")[0] for n in _backend_names(bad)] == ["1", "2", "3", "4"]
