"""Shared by the drills: a pipeline run in a child process and a store's tables as values."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from huiyan.engine import Store

# A run in a child process, so that it can be killed like an operator's run (kill -9).
_CHILD = """
import sys
from pathlib import Path
from huiyan.engine import Store
from huiyan.kb import config
from huiyan.pipeline.context import RunContext
from huiyan.pipeline.runner import STEPS, run_steps
with Store(sys.argv[2]) as store:
    ctx = RunContext(engine=store, config=config.load(None), data_dir=Path(sys.argv[1]),
                     show_progress=False)
    run_steps(ctx, STEPS)
print("done", flush=True)
"""

# Bookkeeping that legitimately differs between runs: batch ids and times, run records.
VOLATILE_TABLES = {"pipeline_run"}
VOLATILE_COLUMNS = {"batch_id", "ingested_at", "source_file", "created_at", "run_at"}


def start_run(data_dir: Path, db: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(data_dir), str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run(data_dir: Path, db: Path) -> None:
    proc = start_run(data_dir, db)
    out, err = proc.communicate(timeout=1800)
    assert proc.returncode == 0 and "done" in out, err[-3000:]


def _rounded(row: tuple[Any, ...], ndigits: int) -> tuple[Any, ...]:
    return tuple(round(v, ndigits) if isinstance(v, float) else v for v in row)


def tables(
    db: Path, *, skip: frozenset[str] = frozenset(), float_digits: int | None = None
) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of the store as its sorted rows, without the volatile bookkeeping.

    ``float_digits``: DOUBLE values rounded to that many decimals (None: compared exactly).
    """
    out: dict[str, list[tuple[Any, ...]]] = {}
    with Store(db, read_only=True) as store:
        for name in store.tables():
            if name in VOLATILE_TABLES or name in skip or name.startswith("__"):
                continue
            cols = [
                r[0]
                for r in store.con.sql(
                    "select column_name from information_schema.columns "
                    "where table_name = ? order by ordinal_position",
                    params=[name],
                ).fetchall()
                if r[0] not in VOLATILE_COLUMNS
            ]
            if not cols:
                continue
            rows = store.con.sql(
                f'select {", ".join(chr(34) + c + chr(34) for c in cols)} from "{name}"'
            ).fetchall()
            if float_digits is not None:
                rows = [_rounded(r, float_digits) for r in rows]
            out[name] = sorted(rows, key=repr)
    return out


def differences(a: dict[str, list], b: dict[str, list]) -> dict[str, str]:
    """Tables whose rows differ, with a short description of the first difference."""
    diff = {}
    for name in sorted(set(a) | set(b)):
        ra, rb = a.get(name), b.get(name)
        if ra == rb:
            continue
        if ra is None or rb is None:
            diff[name] = "missing in one store"
        elif len(ra) != len(rb):
            diff[name] = f"{len(ra)} rows vs {len(rb)}"
        else:
            first = next(i for i, (x, y) in enumerate(zip(ra, rb, strict=True)) if x != y)
            diff[name] = f"row {first}: {ra[first]!r} vs {rb[first]!r}"[:400]
    return diff
