"""Benchmark: ``huiyan synth`` of 1,000,000 settlements; prints wall time and peak RSS.

.venv/bin/python benchmarks/synth.py [--cases N] [--out DIR]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from huiyan.synth import generate


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--format", default="parquet")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="huiyan-synth-")) / "data"
    start = time.perf_counter()
    report = generate(out, cases=args.cases, seed=1, fmt=args.format)
    elapsed = time.perf_counter() - start
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"settlements={report.rows['setl_list']:,} fee_lines={report.rows['feedetail']:,}")  # noqa: T201
    print(f"seconds={elapsed:.1f} peak_rss_gb={peak_gb:.2f} out={out}")  # noqa: T201


if __name__ == "__main__":
    main()
