"""Exact reruns and crash safety of the whole pipeline (slow: several full runs).

- Two runs over the same data give the same tables; so does a run over the input rows
  shuffled.
- Kill drill: a run killed (SIGKILL) at points spread over its course, then run again, ends
  with exactly the tables of an uninterrupted run; the store always reopens.
"""

from __future__ import annotations

import csv
import random
import signal
import time
from pathlib import Path

import pytest
from tests.drills.harness import differences, run, start_run, tables

from huiyan.synth import generate

pytestmark = pytest.mark.slow

# Every table, priced ones included: pricing stores DECIMAL factors and rounds once at the fen,
# so no parallel-sum order can change a result.
PRICED: frozenset[str] = frozenset()


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("drill-region")
    generate(root / "data", cases=600, seed=11, violation_rate=0.1, labels_dir=root / "labels")
    return root / "data"


@pytest.fixture(scope="module")
def two_runs(region: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, float]:
    root = tmp_path_factory.mktemp("drill-runs")
    started = time.monotonic()
    run(region, root / "a.duckdb")
    seconds = time.monotonic() - started
    run(region, root / "b.duckdb")
    return root / "a.duckdb", root / "b.duckdb", seconds


def test_two_runs_give_the_same_tables(two_runs: tuple[Path, Path, float]) -> None:
    a, b, _ = two_runs
    ta = tables(a, skip=PRICED)
    assert {"setl_list", "drg_result", "qc_issue", "finding", "quarantine"} <= set(ta)
    assert differences(ta, tables(b, skip=PRICED)) == {}


def test_priced_tables_are_identical(two_runs: tuple[Path, Path, float]) -> None:
    a, b, _ = two_runs
    assert differences(tables(a), tables(b)) == {}


def _shuffled_copy(src: Path, dest: Path, seed: int) -> Path:
    rnd = random.Random(seed)
    for path in sorted(src.rglob("*")):
        target = dest / path.relative_to(src)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix != ".csv":
            target.write_bytes(path.read_bytes())
            continue
        with path.open(encoding="utf-8", newline="") as fh:
            header, *rows = list(csv.reader(fh))
        rnd.shuffle(rows)
        with target.open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerows([header, *rows])
    return dest


def test_shuffled_input_rows_give_the_same_tables(
    region: Path, two_runs: tuple[Path, Path, float], tmp_path: Path
) -> None:
    a, _, _ = two_runs
    data = _shuffled_copy(region, tmp_path / "data", seed=3)
    run(data, tmp_path / "shuffled.duckdb")
    # Row numbers of the quarantine and content hashes name places in the files.
    skip = PRICED | {"quarantine", "ingest_batch"}
    assert differences(tables(a, skip=skip), tables(tmp_path / "shuffled.duckdb", skip=skip)) == {}


@pytest.mark.parametrize("fraction", [0.1, 0.3, 0.5, 0.7, 0.9])
def test_killed_run_then_rerun_gives_the_same_tables(
    region: Path, two_runs: tuple[Path, Path, float], tmp_path: Path, fraction: float
) -> None:
    a, _, seconds = two_runs
    db = tmp_path / "killed.duckdb"
    proc = start_run(region, db)
    try:
        proc.wait(timeout=seconds * fraction)
    except Exception:
        proc.send_signal(signal.SIGKILL)
    proc.communicate()
    run(region, db)  # reopens the store (replaying its log) and finishes the run
    assert differences(tables(a, skip=PRICED), tables(db, skip=PRICED)) == {}
