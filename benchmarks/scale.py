"""Scale evidence (issue 20): the whole pipeline on DuckDB at 1M settlements, and on Spark
``local[1]`` vs ``local[2]`` on the same region (the speed-up from a second core).

    flock /tmp/huiyan-heavy.lock .venv/bin/python benchmarks/scale.py duckdb \\
        [--data /work/scale-data/region-1m] [--cases 1000000] [--db /work/scale-data/scale.duckdb]
        [--replicate /work/scale-data/region-100k --copies 10]
    flock /tmp/huiyan-heavy.lock .venv/bin/python benchmarks/scale.py spark \\
        [--cases 20000] [--dir /work/scale-data/spark]

``duckdb``: the dataset (``huiyan synth --format parquet``, generated once into ``--data`` when
missing and then reused; or, with ``--replicate SOURCE --copies K``, K copies of the region in
SOURCE with distinct identifiers: 1M settlements as 10 copies of the 100k region, since
generating 1M takes about an hour here) is run through every step into a fresh store, in this
process; prints each step's seconds and rows (and each audit rule's seconds), the total, the
peak RSS, and the targets (<= 3 min, <= 8 GB).

``spark``: a synthetic region is ingested once into a DuckDB staging store (ingest runs on the
driver on a Spark run too, see docs/scale.md), then the steps group..monitor run on Spark, once
with ``local[1]`` and once with ``local[2]``, each in a fresh process (its own JVM); prints each
step's seconds per master and the speed-up. Every run's load average is printed beside it: on
a shared machine a figure means little without it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

AFTER_INGEST = ("group", "qc", "price", "audit", "monitor")
TARGET_SECONDS, TARGET_GB = 180.0, 8.0


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _dataset(data: Path, cases: int) -> None:
    if (data / "setl_list.parquet").exists() or any(data.glob("setl_list*")):
        return
    from huiyan.synth import generate

    print(f"generating {cases:,} settlements into {data} (once) ...", flush=True)  # noqa: T201
    start = time.perf_counter()
    generate(data, cases=cases, seed=1, fmt="parquet")
    print(f"generated in {time.perf_counter() - start:.0f} s", flush=True)  # noqa: T201


# Identifier columns made distinct in each copy of a replicated region (``--replicate``):
# settlements, visits, persons and case numbers; hospitals, catalog and knowledge are shared.
COPY_IDS = {
    "setl_list": ("setl_id", "mdtrt_id", "psn_no", "medcasno"),
    "diseinfo": ("setl_id",),
    "oprninfo": ("setl_id",),
    "feedetail": ("setl_id", "mdtrt_id"),
    "medrcd": ("medcasno",),
}


def _replicate(source: Path, data: Path, copies: int) -> None:
    """``copies`` copies of the region in ``source`` as one region in ``data``: copy k > 0 has
    ``R<k>`` appended to its identifiers (copy 0 is the source as it is), so a region of N
    settlements becomes one of copies x N with the same mix of cases, codes and defects.
    Generating 1M settlements directly takes about an hour on these 2 cores; 10 copies of the
    100k region take a minute."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    if (data / "setl_list.parquet").exists():
        return
    print(f"replicating {source} x{copies} into {data} (once) ...", flush=True)  # noqa: T201
    data.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.iterdir()):
        name = path.name.removesuffix(".parquet")
        if name not in COPY_IDS:  # shared tables and the knowledge folder
            (data / path.name).symlink_to(path.resolve(), target_is_directory=path.is_dir())
            continue
        part = pq.read_table(path)
        with pq.ParquetWriter(data / path.name, part.schema) as out:
            for k in range(copies):
                copy = part
                for column in COPY_IDS[name] if k else ():
                    i = copy.schema.get_field_index(column)
                    suffixed = pc.binary_join_element_wise(copy.column(i), f"R{k}", "")
                    copy = copy.set_column(i, copy.schema.field(i), suffixed)
                out.write_table(copy, row_group_size=1_000_000)


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark of this process (Linux >= 4.0), so each step's own
    peak can be read; False where that is not possible (the figures are then cumulative)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _step_peak_gb() -> float:
    """Peak RSS since the last ``_reset_peak`` (``VmHWM``), else the process's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return _peak_gb()


def duckdb_part(args: argparse.Namespace) -> None:
    from huiyan.engine import Store
    from huiyan.kb import config
    from huiyan.pipeline.context import RunContext
    from huiyan.pipeline.runner import STEPS, run_steps

    if args.replicate:
        _replicate(args.replicate, args.data, args.copies)
    else:
        _dataset(args.data, args.cases)
    # Each audit rule's own time (the engine logs it): where the audit's time goes at this size.
    logging.basicConfig(format="    %(message)s", level=logging.WARNING)
    logging.getLogger("huiyan.audit.engine").setLevel(logging.INFO)
    steps = tuple(args.steps.split(",")) if args.steps else STEPS
    if "ingest" in steps:  # a fresh store; without ingest, the steps re-run on the kept one
        args.db.unlink(missing_ok=True)
        args.db.with_name(args.db.name + ".wal").unlink(missing_ok=True)
    print(f"duckdb pipeline on {args.data}; load average before: {_load()}", flush=True)  # noqa: T201
    total, peak = 0.0, 0.0
    with Store(args.db) as store:
        ctx = RunContext(
            engine=store, config=config.load(), data_dir=args.data, show_progress=False
        )
        for step in steps:
            per_step = _reset_peak()
            (report,) = run_steps(ctx, (step,), force=True)
            total += report.seconds
            step_gb = _step_peak_gb() if per_step else _peak_gb()
            peak = max(peak, step_gb)
            rows = ", ".join(f"{k}={v:,}" for k, v in report.rows.items())
            print(  # noqa: T201
                f"  {step:<8} {report.seconds:7.1f} s  step_peak_rss_gb={step_gb:.2f}  "
                f"load={_load()}  {rows}",
                flush=True,
            )
        n_setl, n_fee = store.count("setl_list"), store.count("feedetail")
    gb = max(peak, _step_peak_gb())
    print(  # noqa: T201
        f"settlements={n_setl:,} fee_lines={n_fee:,} total_seconds={total:.1f} "
        f"peak_rss_gb={gb:.2f} load_after={_load()}"
    )
    ok_t, ok_m = total <= TARGET_SECONDS, gb <= TARGET_GB
    print(  # noqa: T201
        f"target <= {TARGET_SECONDS:.0f} s: {'met' if ok_t else 'MISSED'}; "
        f"<= {TARGET_GB:.0f} GB: {'met' if ok_m else 'MISSED'}"
    )


def _staging(args: argparse.Namespace) -> Path:
    """The region generated and ingested once (DuckDB), reused by both Spark runs."""
    from huiyan.engine import Store
    from huiyan.kb import config
    from huiyan.pipeline.context import RunContext
    from huiyan.pipeline.runner import run_steps
    from huiyan.synth import generate

    data, db = args.dir / "data", args.dir / "staging.duckdb"
    if not db.exists():
        shutil.rmtree(data, ignore_errors=True)
        generate(data, cases=args.cases, seed=1, fmt="parquet")
        with Store(db) as store:
            ctx = RunContext(engine=store, config=config.load(), data_dir=data, show_progress=False)
            run_steps(ctx, ("ingest",))
    return db


def spark_one(master: str, staging: Path, warehouse: Path) -> dict[str, float]:
    """Steps group..monitor on Spark ``master`` from the staging store; seconds per step."""
    from huiyan.engine import Store
    from huiyan.engine.spark import open_engine
    from huiyan.kb import config
    from huiyan.pipeline.context import RunContext
    from huiyan.pipeline.runner import run_steps

    shutil.rmtree(warehouse, ignore_errors=True)
    seconds: dict[str, float] = {}
    with open_engine(master=master, warehouse=warehouse) as eng:
        start = time.perf_counter()
        with Store(staging, read_only=True) as store:
            eng.adopt(store)
        seconds["adopt"] = time.perf_counter() - start
        ctx = RunContext(engine=eng, config=config.load(), show_progress=False)
        for step in AFTER_INGEST:
            (report,) = run_steps(ctx, (step,), force=True)
            seconds[step] = report.seconds
    return seconds


def spark_part(args: argparse.Namespace) -> None:
    args.dir.mkdir(parents=True, exist_ok=True)
    staging = _staging(args)
    results: dict[str, dict[str, float]] = {}
    for master in ("local[1]", "local[2]"):
        load = _load()
        out = subprocess.run(
            [sys.executable, __file__, "spark-one", master, str(staging), str(args.dir / "wh")],
            check=True,
            capture_output=True,
            text=True,
        )
        results[master] = json.loads(out.stdout.strip().splitlines()[-1])
        total = sum(results[master].values())
        steps = "  ".join(f"{k}={v:.1f}" for k, v in results[master].items())
        print(f"{master}: total {total:.1f} s  {steps}  load before={load}", flush=True)  # noqa: T201
    one, two = (sum(results[m].values()) for m in ("local[1]", "local[2]"))
    print(f"settlements~{args.cases:,}: speed-up local[2]/local[1] = {one / two:.2f}x")  # noqa: T201
    for step in results["local[1]"]:
        a, b = results["local[1]"][step], results["local[2]"][step]
        print(f"  {step:<8} {a:7.1f} s -> {b:7.1f} s  ({a / b if b else 0:.2f}x)")  # noqa: T201


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "spark-one":
        master, staging, wh = sys.argv[2:5]
        print(json.dumps(spark_one(master, Path(staging), Path(wh))))  # noqa: T201
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("part", choices=["duckdb", "spark"])
    ap.add_argument("--data", type=Path, default=Path("/work/scale-data/region-1m"))
    ap.add_argument("--db", type=Path, default=Path("/work/scale-data/scale.duckdb"))
    ap.add_argument("--dir", type=Path, default=Path("/work/scale-data/spark"))
    ap.add_argument("--cases", type=int, default=None)
    ap.add_argument(
        "--replicate",
        type=Path,
        default=None,
        metavar="SOURCE",
        help="duckdb: build --data as --copies copies of the region in SOURCE (distinct ids)",
    )
    ap.add_argument("--copies", type=int, default=10)
    ap.add_argument("--steps", default=None, help="duckdb: only these steps, on the kept --db")
    args = ap.parse_args()
    if args.part == "duckdb":
        args.cases = args.cases or 1_000_000
        duckdb_part(args)
    else:
        args.cases = args.cases or 20_000
        spark_part(args)


if __name__ == "__main__":
    main()
