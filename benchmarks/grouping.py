"""Grouping throughput: cases/s on the batch path (1 and 2 processes), single-case latency,
and the whole ``huiyan group`` command (start-up included) on 1, 1,000 and 200,000 cases,
with an empty compiled-scheme cache (cold) and with the cache filled (the usual case).

Cases are resampled (seeded) from the scheme's ``sample_cases.csv`` in tests/data/drg,
which mixes every ADRG, newborns, trauma, failures and unknown codes.

    .venv/bin/python benchmarks/grouping.py [--cases 1000000] [--scheme chs-drg-1.1] [--mode raw]
    .venv/bin/python benchmarks/grouping.py --command-only --scheme zhejiang-2022
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from huiyan.grouping import Case, group_case, group_table, read_cases_csv
from huiyan.grouping.compiled import compile_scheme

REFERENCE = Path(__file__).resolve().parents[1] / "tests" / "data" / "drg"
HUIYAN = Path(sys.executable).with_name("huiyan")


def _cases(scheme: str, n: int) -> pa.Table:
    sample = read_cases_csv(REFERENCE / scheme / "sample_cases.csv")
    idx = np.random.default_rng(42).integers(0, sample.num_rows, n)
    table = sample.take(pa.array(idx))
    ids = pa.array([f"B{i:08d}" for i in range(n)])
    return table.set_column(0, "case_id", ids)


def _work(args: tuple[str, str, str]) -> int:
    # each worker reads its own partition: shipping Arrow tables between processes costs
    # more than grouping them
    path, scheme, mode = args
    return group_table(pq.read_table(path), scheme, mode=mode).num_rows


def _warm(scheme: str) -> None:
    compile_scheme(scheme)
    group_table(_cases(scheme, 2000), scheme)


def _command(scheme: str, mode: str, sizes: tuple[int, ...]) -> None:
    """Wall time of ``huiyan group`` as a user runs it: a new process per call."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "HUIYAN_CACHE_DIR": str(Path(tmp) / "cache")}
        for n in sizes:
            src, out = Path(tmp) / f"cases{n}.csv", Path(tmp) / "out.csv"
            pacsv.write_csv(_cases(scheme, n), src)
            args = [str(HUIYAN), "group", "--scheme", scheme, "--mode", mode]
            args += ["--cases", str(src), "--out", str(out)]
            times, cpu = [], []
            for _ in range(2):  # the first call of the first size compiles: cold cache
                t0, c0 = time.perf_counter(), _child_cpu()
                subprocess.run(args, env=env, check=True, capture_output=True)
                times.append(time.perf_counter() - t0)
                cpu.append(_child_cpu() - c0)
            print(
                f"command {n:>9,} cases: {times[0]:.2f} s (cpu {cpu[0]:.2f} s), again"
                f" {times[1]:.2f} s (cpu {cpu[1]:.2f} s) = {n / times[1]:,.0f} cases/s"
                " (start-up included)"
            )
        t0, c0 = time.perf_counter(), _child_cpu()
        subprocess.run([str(HUIYAN), "--help"], env=env, check=True, capture_output=True)
        wall, cpu_help = time.perf_counter() - t0, _child_cpu() - c0
        print(
            f"command `huiyan --help` (interpreter + CLI start-up): {wall:.2f} s (cpu {cpu_help:.2f} s)"
        )


def _child_cpu() -> float:
    """CPU seconds (user + system) of finished child processes: on a shared machine the wall
    time of a short command is mostly waiting for a core."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--scheme", default="chs-drg-1.1")
    ap.add_argument("--mode", default="raw")
    ap.add_argument("--single", type=int, default=5000, help="cases for the latency figure")
    ap.add_argument("--command-sizes", default="1,1000,200000")
    ap.add_argument("--command-only", action="store_true")
    a = ap.parse_args()
    sizes = tuple(int(x) for x in a.command_sizes.split(","))
    _command(a.scheme, a.mode, sizes)
    if a.command_only:
        return
    table = _cases(a.scheme, a.cases)
    # warm-up: compiling a scheme (reading its tables) is a one-off per process, not per batch
    compile_scheme(a.scheme)
    group_table(table.slice(0, 5000), a.scheme, mode=a.mode)

    t0 = time.perf_counter()
    group_table(table, a.scheme, mode=a.mode)
    one = time.perf_counter() - t0
    print(f"batch, 1 core : {a.cases:,} cases in {one:.2f} s = {a.cases / one:,.0f} cases/s")

    with tempfile.TemporaryDirectory() as tmp:
        half = a.cases // 2
        parts = []
        for k, part in enumerate((table.slice(0, half), table.slice(half))):
            parts.append(str(Path(tmp) / f"part{k}.parquet"))
            pq.write_table(part, parts[-1])
        jobs = [(p, a.scheme, a.mode) for p in parts]
        t0 = time.perf_counter()
        for job in jobs:
            _work(job)
        seq = time.perf_counter() - t0
        print(f"batch, 1 core (2 parquet partitions read + grouped): {a.cases / seq:,.0f} cases/s")
        with ProcessPoolExecutor(2, initializer=_warm, initargs=(a.scheme,)) as pool:
            t0 = time.perf_counter()
            list(pool.map(_work, jobs))
            two = time.perf_counter() - t0
        print(f"batch, 2 cores (same partitions, 2 processes): {a.cases / two:,.0f} cases/s")

    rows = [Case.from_row(r) for r in table.slice(0, a.single).to_pylist()]
    t0 = time.perf_counter()
    for c in rows:
        group_case(c, a.scheme, mode=a.mode)
    per = (time.perf_counter() - t0) / len(rows)
    print(f"single case   : {per * 1000:.3f} ms per case (with Chinese trace), {len(rows):,} cases")


if __name__ == "__main__":
    main()
