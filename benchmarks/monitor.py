"""Benchmark: the monitor step (indicators, warnings, anomaly models) on a generated region
(default 1,000,000 settlements, 20 fee lines each) in the embedded DuckDB store.

    .venv/bin/python benchmarks/monitor.py [--cases 1000000] [--lines 20] [--db /tmp/bench_monitor.duckdb]

The data are generated vectorised here (numpy) in one process; the monitor step then runs in a
child process so the peak RSS printed is the step's own.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from huiyan.engine import Store
from huiyan.model.tables import TABLES

CHUNK = 100_000


def _conform(name: str, cols: dict[str, pa.Array]) -> pa.Table:
    return TABLES[name].conform(pa.table(cols))


def _money(x: np.ndarray) -> pa.Array:
    return pa.array(np.round(x, 2)).cast(pa.decimal128(16, 2))


def generate(store: Store, n: int, lines: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_h = 60
    store.write(
        "medins",
        _conform(
            "medins",
            {
                "medins_code": pa.array([f"H{i:03d}" for i in range(n_h)]),
                "medins_lv": pa.array([str(1 + i % 3) for i in range(n_h)]),
                "medins_type": pa.array(["general" if i % 4 else "tcm" for i in range(n_h)]),
            },
        ),
    )
    drgs = np.array(
        [f"{m}{t}{k:01d}{s}" for m in "BEFGK" for t in "BDRT" for k in range(1, 6) for s in "1359"]
    )
    drg_w = rng.lognormal(0, 0.5, len(drgs))
    drg_cost = 8000 * drg_w
    t0 = np.datetime64("2025-01-01T08:00:00")
    for start in range(0, n, CHUNK):
        k = min(CHUNK, n - start)
        idx = np.arange(start, start + k)
        ids = np.char.add("S", idx.astype(str))
        visits = np.char.add("M", idx.astype(str))
        hosp = rng.integers(0, n_h, k)
        g = rng.integers(0, len(drgs), k)
        los = np.clip(rng.lognormal(2.0, 0.5, k).astype(int), 1, 90)
        adm = t0 + rng.integers(0, 365 * 86400, k).astype("timedelta64[s]")
        dscg = adm + (los * 86400).astype("timedelta64[s]")
        cost = drg_cost[g] * rng.lognormal(0, 0.35, k)
        fund = cost * 0.7
        dept = rng.integers(0, 20, k)
        store.write(
            "setl_list",
            _conform(
                "setl_list",
                {
                    "setl_id": pa.array(ids),
                    "mdtrt_id": pa.array(visits),
                    "psn_no": pa.array(np.char.add("P", rng.integers(0, n * 0.7, k).astype(str))),
                    "medins_code": pa.array([f"H{h:03d}" for h in hosp]),
                    "insutype": pa.array(["310"] * k),
                    "dscg_caty": pa.array([f"A{d:02d}" for d in dept]),
                    "chfpdr_code": pa.array(
                        [
                            f"D{h:03d}{d:02d}{r}"
                            for h, d, r in zip(hosp, dept, rng.integers(0, 5, k), strict=True)
                        ]
                    ),
                    "adm_time": pa.array(adm),
                    "dscg_time": pa.array(dscg),
                    "dscg_way": pa.array(np.where(rng.random(k) < 0.01, "5", "1")),
                    "days_rinp_flag_31": pa.array(["1"] * k),
                    "medfee_sumamt": _money(cost),
                    "fund_pay_sumamt": _money(fund),
                    "ownpay_amt": _money(cost * 0.05),
                },
            ),
        )
        status = np.where(rng.random(k) < 0.01, "FAIL", "SUCCESS")
        store.write(
            "drg_result",
            _conform(
                "drg_result",
                {
                    "setl_id": pa.array(ids),
                    "scheme": pa.array(["chs-drg-1.1"] * k),
                    "status": pa.array(status),
                    "mdc": pa.array([d[0] for d in drgs[g]]),
                    "adrg": pa.array([d[:3] for d in drgs[g]]),
                    "drg": pa.array(drgs[g]),
                },
            ),
        )
        ratio = cost / drg_cost[g]
        case_type = np.where(ratio > 2.5, "high", np.where(ratio < 0.4, "low", "normal"))
        store.write(
            "payment",
            _conform(
                "payment",
                {
                    "setl_id": pa.array(ids),
                    "method": pa.array(["DRG"] * k),
                    "group": pa.array(drgs[g]),
                    "weight_or_score": pa.array(drg_w[g]),
                    "case_type": pa.array(case_type),
                    "standard_payment": _money(drg_cost[g]),
                    "actual_cost": _money(cost),
                    "difference": _money(drg_cost[g] - cost),
                },
            ),
        )
        m = k * lines
        share = rng.dirichlet(np.ones(lines), k).ravel()
        store.write(
            "feedetail",
            _conform(
                "feedetail",
                {
                    "feedetl_sn": pa.array(np.arange(m).astype(str)),
                    "mdtrt_id": pa.array(np.repeat(visits, lines)),
                    "fee_ocur_time": pa.array(np.repeat(adm, lines)),
                    "med_list_codg": pa.array(["X"] * m),
                    "med_chrgitm_type": pa.array(
                        np.array(["01", "03", "04", "05", "07", "08", "09", "11"])[
                            rng.integers(0, 8, m)
                        ]
                    ),
                    "cnt": pa.array(np.ones(m)).cast(pa.decimal128(18, 4)),
                    "pric": pa.array(np.round(np.repeat(cost, lines) * share, 2)).cast(
                        pa.decimal128(18, 4)
                    ),
                    "det_item_fee_sumamt": _money(np.repeat(cost, lines) * share),
                },
            ),
        )
        f = rng.random(k) < 0.03
        nf = int(f.sum())
        store.write(
            "finding",
            _conform(
                "finding",
                {
                    "jr_id": pa.array(np.char.add("J", ids[f])),
                    "rule_id": pa.array(["R"] * nf),
                    "rule_name": pa.array(["r"] * nf),
                    "vola_bhvr_type": pa.array(["UPCODE"] * nf),
                    "sev_deg": pa.array(np.where(rng.random(nf) < 0.5, "1", "2")),
                    "setl_id": pa.array(ids[f]),
                    "vola_amt": _money(cost[f] * 0.1),
                    "vola_cont": pa.array(["x"] * nf),
                    "vola_evid": pa.array(["x"] * nf),
                    "stage": pa.array(["post"] * nf),
                },
            ),
        )


def run_step(db: Path) -> None:
    from huiyan.kb import config
    from huiyan.pipeline.context import RunContext
    from huiyan.pipeline.steps import monitor

    with Store(db) as store:
        started = time.perf_counter()
        report = monitor.run(
            RunContext(engine=store, config=config.load(None), show_progress=False)
        )
        seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak = usage.ru_maxrss / 1024 / 1024
    cpu = usage.ru_utime + usage.ru_stime
    print(
        f"monitor step: {seconds:.1f} s wall ({cpu:.1f} s CPU over all threads), "
        f"peak RSS {peak:.2f} GB, rows {report.rows}"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--lines", type=int, default=20)
    ap.add_argument("--db", type=Path, default=Path("/tmp/bench_monitor.duckdb"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--step-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.step_only:
        run_step(args.db)
        return
    args.db.unlink(missing_ok=True)
    Path(f"{args.db}.wal").unlink(missing_ok=True)
    started = time.perf_counter()
    with Store(args.db) as store:
        generate(store, args.cases, args.lines, args.seed)
    print(
        f"generated {args.cases:,} settlements × {args.lines} lines in {time.perf_counter() - started:.0f} s"
    )
    subprocess.run([sys.executable, __file__, "--db", str(args.db), "--step-only"], check=True)


if __name__ == "__main__":
    main()
