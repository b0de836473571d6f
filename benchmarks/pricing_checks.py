"""Pricing acceptance figures on a priced store (issue 19): calibration, exactness, budget.

Usage: ``python benchmarks/pricing_checks.py [DB] [--budget YUAN]`` (DB defaults to
``demo/huiyan.duckdb``, written by ``make demo``). Works on a copy; prints:

- groups whose weight rests on fewer than ``calibration.min_cases`` cases;
- ADRGs whose weights still fall with severity (and the warning rows of those adjusted);
- the DIP deviation-case share;
- payment rows that do not reproduce from their stored factors (independent Decimal check);
- whether a rerun of ``price`` gives byte-identical tables;
- year-end clearing against the budget for DRG and DIP (paid, reconciled);
- what level-1 hospitals are paid against their cost.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import tempfile
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from huiyan.engine import Store
from huiyan.kb import config as kb_config
from huiyan.pipeline.context import RunContext
from huiyan.pipeline.steps import price
from huiyan.pricing.calibrate import severity_chains
from huiyan.settlement.run import settle

TABLES = ("payment", "drg_standard", "dip_catalog", "payment_rate", "pricing_warning", "dip_review")


def _digest(store: Store) -> dict[str, str]:
    out = {}
    for name in TABLES:
        rows = store.con.sql(f'select * from "{name}" order by all').fetchall()
        out[name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return out


def _reproduce(w: Decimal | None, r: Decimal | None, c: Decimal, actual: Decimal) -> Decimal:
    # Written independently of huiyan.model.exact on purpose.
    x = actual * c if w is None or r is None else w * r * c
    return x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("db", nargs="?", default="demo/huiyan.duckdb")
    ap.add_argument("--budget", type=float, default=120_000_000)
    args = ap.parse_args()
    cfg = kb_config.load()
    m = int(cfg["payment"]["calibration"]["min_cases"])
    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "checks.duckdb"
        shutil.copy(args.db, db)
        with Store(db) as store:
            price.run(RunContext(store, cfg))
            first = _digest(store)
            price.run(RunContext(store, cfg))
            same = first == _digest(store)
            std = store.read("drg_standard").to_pylist()
            weak = [
                r
                for r in std
                if r["source"] == "derived" and r["basis"].startswith("own") and r["n_used"] < m
            ]
            by_basis: dict[str, int] = defaultdict(int)
            for r in std:
                by_basis[r["basis"]] += 1
            w = {r["drg"]: r["weight"] for r in std}
            chains = severity_chains(w)
            inverted = [
                a
                for a, gs in chains.items()
                if any(w[x] < w[y] for x, y in zip(gs, gs[1:], strict=False))
            ]
            warnings = store.count("pricing_warning")
            adjusted = store.con.sql(
                "select count(distinct parent) from pricing_warning where kind = 'severity_order'"
            ).fetchall()[0][0]
            dev = store.con.sql(
                "select count(*) filter (where case_type in ('high', 'low', 'extreme_high')), "
                "count(*) from payment where method = 'DIP' "
                "and case_type in ('normal', 'high', 'low', 'extreme_high')"
            ).fetchall()[0]
            rows = store.con.sql(
                "select weight_or_score, rate_or_point_value, coefficient, actual_cost, "
                "standard_payment from payment"
            ).fetchall()
            bad = sum(1 for w_, r_, c_, a_, s_ in rows if _reproduce(w_, r_, c_, a_) != s_)
            lv1 = store.con.sql(
                "select sum(p.standard_payment) / sum(p.actual_cost) from payment p "
                "join medins m using (medins_code) where p.method = 'DRG' and m.medins_lv = '1' "
                "and p.case_type not in ('out_of_scope')"
            ).fetchall()[0][0]
            year = store.con.sql(
                "select max(year(dscg_time)) from setl_list where month(dscg_time) = 12"
            ).fetchall()[0][0]
            closure = {}
            for method in ("DRG", "DIP"):
                c = kb_config.load()
                c["payment"]["method"] = method
                c["settlement"]["fund_budget"] = args.budget
                ledger = settle(store, c, period=f"{year}-12", year_end_clearing=True)
                closure[method] = ledger.pool

        print(f"DRG groups: {len(std)}; weight on fewer than {m} own cases: {len(weak)}")
        print("  basis: " + ", ".join(f"{k} {v}" for k, v in sorted(by_basis.items())))
        print(
            f"ADRGs with severity splits: {len(chains)}; still inverted: {len(inverted)}; "
            f"adjusted: {adjusted} ADRGs ({warnings} pricing_warning rows)"
        )
        print(
            f"DIP deviation cases: {dev[0]:,} of {dev[1]:,} = {100 * dev[0] / max(dev[1], 1):.2f} %"
        )
        print(f"payment rows failing independent reproduction: {bad:,} of {len(rows):,}")
        print(f"rerun of price byte-identical ({', '.join(TABLES)}): {same}")
        for method, p in closure.items():
            paid = Decimal(p["paid_out"] + p["redistributed"]).scaleb(-2)
            print(
                f"{method} year-end {year}: budget {args.budget:,.2f} → paid {paid:,.2f} "
                f"(final value {p['final_value']} vs provisional {p['provisional_value']}), "
                f"reconciled {p['reconciled']}"
            )
        print(f"level-1 hospitals (DRG): paid {Decimal(lv1):.3f} × their cost")


if __name__ == "__main__":
    main()
