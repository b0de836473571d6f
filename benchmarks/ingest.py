"""Ingest benchmark: N settlements with ~30 fee lines each, as CSV.

    .venv/bin/python benchmarks/ingest.py [--settlements 1000000] [--dir /tmp/huiyan-bench]

Generates the dataset with DuckDB (vectorised, seconds), then times (a) DuckDB merely reading
every column of every file and (b) ``huiyan.ingest.ingest`` into a fresh store; prints rows/s
per table, the totals, the ratio (b)/(a) and peak RSS. Targets (issue 2): 1,000,000
settlements + 30,000,000 fee lines in <= 90 s on 2 cores and <= 3x the read time.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import time
from pathlib import Path

import duckdb

from huiyan.engine import Store
from huiyan.ingest import ingest

FEES_PER_CASE = 30


def generate(folder: Path, n: int) -> None:
    """Write medins, setl_list, diseinfo, oprninfo and feedetail CSVs for ``n`` settlements."""
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    diag = ["I21.000", "J18.900", "K35.800", "E11.900", "I10.x00", "N18.500", "C34.900"]
    oprn = ["47.0100", "36.0600", "81.5100", "00.6600"]
    items = ["001102000050000", "120100006", "250104004", "XL02BBA326A001010102180", "311201012"]
    con.execute(
        f"CREATE TABLE d AS SELECT unnest({diag}) AS code, generate_subscripts({diag}, 1) - 1 AS di"
    )
    con.execute(
        f"COPY (SELECT 'H' || lpad(i::VARCHAR, 8, '0') AS medins_code, '医院' || i AS medins_name, "
        f"(i % 3 + 1)::VARCHAR AS medins_lv, 'general' AS medins_type, '370100' AS admdvs "
        f"FROM range(200) t(i)) TO '{folder}/medins.csv' (HEADER)"
    )
    con.execute(
        f"COPY (SELECT 'S' || i AS setl_id, 'M' || i AS mdtrt_id, 'P' || (i // 2) AS psn_no, "
        f"'H' || lpad((i % 200)::VARCHAR, 8, '0') AS medins_code, 'MC' || i AS medcasno, "
        f"(i % 2 + 1)::VARCHAR AS gend, (i % 90)::VARCHAR AS age, "
        f"CASE WHEN i % 3 = 0 THEN '390' ELSE '310' END AS insutype, '21' AS med_type, "
        f"strftime(TIMESTAMP '2024-01-01 08:00:00' + to_minutes(i % 500000), '%Y-%m-%d %H:%M:%S') AS adm_time, "
        f"strftime(TIMESTAMP '2024-01-01 08:00:00' + to_minutes(i % 500000) + to_days(1 + i % 20), '%Y-%m-%d %H:%M:%S') AS dscg_time, "
        f"'A03' AS adm_caty, 'A03' AS dscg_caty, '1' AS dscg_way, "
        f"(1000 + i % 50000)::DECIMAL(16,2)::VARCHAR AS medfee_sumamt, "
        f"(800 + i % 40000)::DECIMAL(16,2)::VARCHAR AS fund_pay_sumamt, '0.00' AS ownpay_amt, "
        f"strftime(TIMESTAMP '2024-02-01', '%Y-%m-%d %H:%M:%S') AS setl_time "
        f"FROM range({n}) t(i)) TO '{folder}/setl_list.csv' (HEADER)"
    )
    con.execute(
        f"COPY (SELECT 'S' || i AS setl_id, k AS diag_srt_no, d.code AS diag_code, '诊断' AS diag_name, "
        f"CASE WHEN k = 1 THEN '1' ELSE '0' END AS maindiag_flag, '1' AS adm_cond_type "
        f"FROM range({n}) t(i), range(1, 5) s(k), d WHERE d.di = (i + k) % 7) "
        f"TO '{folder}/diseinfo.csv' (HEADER)"
    )
    con.execute(
        f"COPY (SELECT 'S' || i AS setl_id, 1 AS oprn_srt_no, {oprn}[i % 4 + 1] AS oprn_oprt_code, "
        f"'手术' AS oprn_oprt_name, '1' AS main_oprn_flag FROM range({n}) t(i) WHERE i % 3 = 0) "
        f"TO '{folder}/oprninfo.csv' (HEADER)"
    )
    con.execute(
        f"COPY (SELECT (j % {FEES_PER_CASE} + 1)::VARCHAR AS feedetl_sn, NULL AS init_feedetl_sn, "
        f"'M' || (j // {FEES_PER_CASE}) AS mdtrt_id, "
        f"strftime(TIMESTAMP '2024-01-01 09:00:00' + to_minutes((j // {FEES_PER_CASE}) % 500000) "
        f"+ to_hours(j % {FEES_PER_CASE}), '%Y-%m-%d %H:%M:%S') AS fee_ocur_time, "
        f"{items}[j % 5 + 1] AS med_list_codg, 'H' || (j % 997) AS medins_list_codg, "
        f"lpad((j % 14 + 1)::VARCHAR, 2, '0') AS med_chrgitm_type, (j % 3 + 1)::VARCHAR AS cnt, "
        f"'12.5' AS pric, ((j % 3 + 1) * 12.5)::DECIMAL(16,2)::VARCHAR AS det_item_fee_sumamt, "
        f"'A03' AS bilg_dept_codg, 'D' || (j % 300) AS bilg_dr_codg, '01' AS chrgitm_lv "
        f"FROM range({n * FEES_PER_CASE}) t(j)) TO '{folder}/feedetail.csv' (HEADER)"
    )
    con.close()


def read_only(folder: Path) -> dict[str, float]:
    """Seconds DuckDB needs to parse every column of each file (no validation, no storing)."""
    con = duckdb.connect()
    out = {}
    for path in sorted(folder.glob("*.csv")):
        cols = [
            r[0]
            for r in con.sql(
                f"DESCRIBE SELECT * FROM read_csv('{path}', all_varchar=true)"
            ).fetchall()
        ]
        aggs = ", ".join(f'max(length("{c}"))' for c in cols)
        started = time.perf_counter()
        con.sql(f"SELECT {aggs} FROM read_csv('{path}', all_varchar=true)").fetchall()
        out[path.stem] = time.perf_counter() - started
    con.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settlements", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/huiyan-bench"))
    parser.add_argument("--keep", action="store_true", help="reuse files already generated")
    args = parser.parse_args()
    data = args.dir / f"data-{args.settlements}"
    if not (args.keep and data.is_dir()):
        shutil.rmtree(data, ignore_errors=True)
        started = time.perf_counter()
        generate(data, args.settlements)
        print(f"generated in {time.perf_counter() - started:.1f} s → {data}")
    reads = read_only(data)
    read_total = sum(reads.values())
    db = args.dir / "bench.duckdb"
    db.unlink(missing_ok=True)
    started = time.perf_counter()
    with Store(db) as store:
        report = ingest(data, store)
    total = time.perf_counter() - started
    print(f"{'table':<10} {'rows':>12} {'read s':>8} {'read rows/s':>12}")
    for name, c in report.tables.items():
        secs = reads.get(name, 0.0)
        rate = c.read / secs if secs else 0.0
        print(
            f"{name:<10} {c.read:>12,} {secs:>8.2f} {rate:>12,.0f}  accepted {c.accepted:,} quarantined {c.quarantined:,}"
        )
    rows = sum(c.read for c in report.tables.values())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"DuckDB read only: {read_total:.1f} s")
    print(f"ingest total:     {total:.1f} s  ({rows / total:,.0f} rows/s over all tables)")
    print(f"ratio ingest/read: {total / read_total:.2f}  (target <= 3)")
    print(f"peak RSS: {peak_mb:,.0f} MiB")


if __name__ == "__main__":
    main()
