"""Benchmark: the whole audit rule library over a generated region (default 1,000,000 settlements,
about 30 fee lines each), on the embedded DuckDB store. Prints per-rule timings and the total.

    .venv/bin/python benchmarks/audit.py [--cases 1000000] [--lines 30] [--db /tmp/bench_audit.duckdb]
        [--wide-cases 200000 --wide-lines 100]   # then a region of ~100 lines per stay

Data are generated vectorised here (numpy), with codes from the shipped catalog, a sprinkle of
refunds, and one DRG result and payment row per case, so every rule has real work to do.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from huiyan.audit.api import audit_store
from huiyan.engine import Store
from huiyan.kb import config
from huiyan.model.tables import TABLES

ITEMS = [  # (code, chrgitm type, list type, price, unit, max per day)
    ("001109000010000", "01", "2", 60.0, "日", 1),
    ("001102000050000", "02", "2", 25.0, "日", 1),
    ("001201000040000", "07", "2", 25.0, "日", 1),
    ("002501010010000", "04", "2", 25.0, "次", None),
    ("002101020010000", "03", "2", 80.0, "次", None),
    ("001213000010000", "05", "2", 12.0, "组", None),
    ("003107010220000", "05", "2", 6.0, "小时", 24),
    ("XB05BBA033B002010100123", "09", "1", 4.5, "袋", None),
    ("XA02BCA211B001010100456", "09", "1", 18.0, "支", 2),
    ("XJ01DDC016B001010100789", "09", "1", 15.0, "支", None),
    ("ZD03AAA0043010100166", "11", "1", 22.0, "盒", None),
    ("XB01AXA223B002010100156", "09", "1", 38.0, "支", None),
]
PDX = ["J18.900", "I63.900", "K35.800", "E11.900", "I10.x00", "J06.900", "C34.900", "N40.x00"]


def _conform(name: str, cols: dict[str, pa.Array]) -> pa.Table:
    return TABLES[name].conform(pa.table(cols))


def generate(store: Store, n: int, per_case: int, seed: int) -> int:
    rng = np.random.default_rng(seed)
    ids = np.char.add("S", np.arange(n).astype(str))
    visits = np.char.add("M", np.arange(n).astype(str))
    t0 = np.datetime64("2025-01-01T08:00:00")
    adm = t0 + rng.integers(0, 360 * 86400, n).astype("timedelta64[s]")
    los = rng.integers(1, 15, n)
    dscg = adm + (los * 86400 + rng.integers(0, 36000, n)).astype("timedelta64[s]")
    hosp = rng.integers(1, 61, n)
    store.write(
        "medins",
        _conform(
            "medins",
            {
                "medins_code": pa.array([f"H{i}" for i in range(1, 61)]),
                "medins_lv": pa.array([str(1 + i % 3) for i in range(1, 61)]),
            },
        ),
        mode="replace",
    )
    medfee = rng.gamma(2.0, 4000.0, n).round(2)
    store.write(
        "setl_list",
        _conform(
            "setl_list",
            {
                "setl_id": pa.array(ids),
                "mdtrt_id": pa.array(visits),
                "psn_no": pa.array(np.char.add("P", rng.integers(0, int(n * 0.8), n).astype(str))),
                "medins_code": pa.array(np.char.add("H", hosp.astype(str))),
                "gend": pa.array(rng.choice(["1", "2"], n)),
                "age": pa.array(rng.integers(0, 90, n)),
                "insutype": pa.array(rng.choice(["310", "390"], n)),
                "adm_way": pa.array(["2"] * n),
                "adm_time": pa.array(adm.astype("datetime64[s]")),
                "dscg_time": pa.array(dscg),
                "dscg_way": pa.array(rng.choice(["1", "1", "1", "4", "5"], n)),
                "days_rinp_flag_31": pa.array(["1"] * n),
                "medfee_sumamt": pa.array(medfee),
                "fund_pay_sumamt": pa.array((medfee * 0.7).round(2)),
            },
        ),
        mode="replace",
    )
    dx = rng.integers(0, len(PDX), (n, 2))
    store.write(
        "diseinfo",
        _conform(
            "diseinfo",
            {
                "setl_id": pa.array(np.repeat(ids, 2)),
                "diag_srt_no": pa.array(np.tile([1, 2], n)),
                "diag_code": pa.array(np.array(PDX)[dx.ravel()]),
                "maindiag_flag": pa.array(np.tile(["1", "0"], n)),
            },
        ),
        mode="replace",
    )
    drg = np.array(["ES31", "ES33", "ES35", "GB15", "BR25", "DT15"])[dx[:, 0] % 6]
    store.write(
        "drg_result",
        _conform(
            "drg_result",
            {
                "setl_id": pa.array(ids),
                "scheme": pa.array(["chs-drg-1.1"] * n),
                "status": pa.array(["SUCCESS"] * n),
                "mdc": pa.array(np.char.add("MDC", drg.astype("U1"))),
                "adrg": pa.array(np.char.ljust(drg, 3).astype("U3")),
                "drg": pa.array(drg),
                "has_mcc": pa.array(np.char.endswith(drg, "1")),
                "has_cc": pa.array(np.char.endswith(drg, "3")),
            },
        ),
        mode="replace",
    )
    store.write(
        "payment",
        _conform(
            "payment",
            {
                "setl_id": pa.array(ids),
                "method": pa.array(["DRG"] * n),
                "group": pa.array(drg),
                "case_type": pa.array(["normal"] * n),
                "standard_payment": pa.array(medfee),
                "actual_cost": pa.array(medfee),
                "difference": pa.array(np.zeros(n)),
            },
        ),
        mode="replace",
    )
    total = 0
    chunk = 100_000
    for start in range(0, n, chunk):
        k = min(chunk, n - start)
        m = k * per_case
        case = np.repeat(np.arange(start, start + k), per_case)
        item = rng.integers(0, len(ITEMS), m)
        day = rng.integers(0, 1 + los[case])
        when = (adm[case].astype("datetime64[D]") + day.astype("timedelta64[D]")).astype(
            "datetime64[s]"
        ) + rng.integers(8, 18, m).astype("timedelta64[h]")
        price = np.array([it[3] for it in ITEMS])[item]
        cnt = np.ones(m)
        sn = np.arange(m) % per_case + 1
        refund = rng.random(m) < 0.01
        cols = {
            "feedetl_sn": pa.array(sn.astype(str)),
            "init_feedetl_sn": pa.array(np.where(refund, sn.astype(str), None)),
            "mdtrt_id": pa.array(visits[case]),
            "setl_id": pa.array(ids[case]),
            "fee_ocur_time": pa.array(when),
            "med_list_codg": pa.array(np.array([it[0] for it in ITEMS])[item]),
            "med_chrgitm_type": pa.array(np.array([it[1] for it in ITEMS])[item]),
            "cnt": pa.array(np.where(refund, -cnt, cnt)),
            "pric": pa.array(price),
            "det_item_fee_sumamt": pa.array(np.where(refund, -price, price)),
        }
        # Refund lines get their own serial numbers after the visit's last line.
        cols["feedetl_sn"] = pa.array(np.where(refund, (sn + per_case).astype(str), sn.astype(str)))
        store.write(
            "feedetail", _conform("feedetail", cols), mode="replace" if start == 0 else "append"
        )
        total += m
    hilist = {
        "hilist_code": pa.array([it[0] for it in ITEMS]),
        "list_type": pa.array([it[2] for it in ITEMS]),
        "med_chrgitm_type": pa.array([it[1] for it in ITEMS]),
        "unit": pa.array([it[4] for it in ITEMS]),
        "pric_lv1": pa.array([it[3] for it in ITEMS]),
        "pric_lv2": pa.array([it[3] for it in ITEMS]),
        "pric_lv3": pa.array([it[3] for it in ITEMS]),
        "max_cnt_day": pa.array([it[5] for it in ITEMS], pa.float64()),
        "lmt_dx": pa.array([("I63" if it[0].startswith("XB01AX") else None) for it in ITEMS]),
    }
    store.write("hilist", _conform("hilist", hilist), mode="replace")
    return total


def run(db: Path, cases: int, per_case: int, seed: int, memory_limit: str) -> float:
    """Generate ``cases`` settlements of ``per_case`` lines, audit them; the audit's seconds."""
    db.unlink(missing_ok=True)
    with Store(db) as store:
        t = time.perf_counter()
        lines = generate(store, cases, per_case, seed)
        # Audit the data as stored (compressed in the file), as after an ingest, not the
        # write-ahead log of the rows just generated.
        store.con.execute("CHECKPOINT")
        print(
            f"generated {cases:,} settlements, {lines:,} fee lines in {time.perf_counter() - t:.1f} s"
        )
        # The target's memory budget (8 GB peak RSS): DuckDB keeps its share below this and
        # spills to disk beyond it; the rest is Arrow results and Python.
        store.con.execute(f"SET memory_limit = '{memory_limit}'")
        store.con.execute(f"SET temp_directory = '{db}.tmp'")
        t = time.perf_counter()
        result = audit_store(store, config.load())
        total = time.perf_counter() - t
    for rule_id, secs in sorted(result.seconds.items(), key=lambda kv: -kv[1])[:15]:
        print(f"  {rule_id:15} {secs:7.2f} s  {result.counts[rule_id]:>9,} findings")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(
        f"audit of {cases:,} x {per_case} lines: {len(result.seconds)} rules, "
        f"{result.findings.num_rows:,} findings, {total:.1f} s total, peak RSS {peak:.2f} GB"
    )
    db.unlink(missing_ok=True)
    return total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--lines", type=int, default=30)
    # Issue 18: also a region with ~100 fee lines per stay (0 cases: skip it).
    ap.add_argument("--wide-cases", type=int, default=200_000)
    ap.add_argument("--wide-lines", type=int, default=100)
    ap.add_argument("--db", type=Path, default=Path("/tmp/bench_audit.duckdb"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--memory-limit", default="5GB", help="DuckDB memory_limit for the audit")
    args = ap.parse_args()
    run(args.db, args.cases, args.lines, args.seed, args.memory_limit)
    if args.wide_cases:
        run(args.db, args.wide_cases, args.wide_lines, args.seed, args.memory_limit)


if __name__ == "__main__":
    main()
