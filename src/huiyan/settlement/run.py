"""Gather a settlement run's cases from the store and write its ledgers.

``settle(store, config, period="2025-12")`` is the monthly pre-settlement of the cases
discharged that month; with ``year_end=True`` it clears the whole year of ``period``.
"""

from __future__ import annotations

import csv
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from huiyan.errors import InputError
from huiyan.model.domain import settled_findings
from huiyan.model.payment_tables import DIP_REVIEW, SETTLEMENT, SETTLEMENT_CASE, SETTLEMENT_POOL
from huiyan.model.tables import DRG_RESULT, FINDING, PAYMENT, SETL_LIST
from huiyan.settlement.allocate import to_fen
from huiyan.settlement.budget import close_year, units_of
from huiyan.settlement.deductions import net_deductions
from huiyan.settlement.ledger import Cases, Ledger, monthly, yuan

if TYPE_CHECKING:
    from huiyan.engine import Engine

_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_MONEY_COLS = (
    "standard_amt",
    "actual_cost",
    "patient_share",
    "special_review_amt",
    "new_tech_amt",
    "clearing_adj",
    "deduction",
    "fund_due",
    "prepaid",
    "paid",
    "withheld",
    "redistributed",
    "overspend_cut",
)
_POOL_MONEY = (
    "pool_in",
    "paid_out",
    "withheld",
    "redistributed",
    "deducted",
    "budget",
    "overspend",
    "overspend_shared",
)


def read_amounts(path: str | Path, *, amount: bool) -> dict[str, int]:
    """A CSV of ``setl_id[,amount]`` (special-review applications, new technology, deductions)."""
    p = Path(path)
    try:
        with p.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as exc:
        raise InputError(f"{p}: 无法读取: {exc}") from exc
    out: dict[str, int] = {}
    for i, row in enumerate(rows, start=2):
        sid = (row.get("setl_id") or "").strip()
        if not sid:
            raise InputError(f"{p} 第{i}行 字段 setl_id: 不能为空")
        value = 0
        if amount:
            try:
                value = to_fen(Decimal((row.get("amount") or "").strip()))
            except InvalidOperation:
                raise InputError(
                    f"{p} 第{i}行 字段 amount: {row.get('amount')!r} 不是金额"
                ) from None
        out[sid] = out.get(sid, 0) + value
    return out


def _cases(
    store: Engine,
    config: dict[str, dict[str, Any]],
    year: int,
    month: int | None,
    decided: pa.Table | None = None,
) -> pa.Table:
    method = config["payment"]["method"]
    scheme = config["grouping"]["payment_scheme"]
    pay = store.table(PAYMENT.name)
    pay = pay.filter((pay.method == method) & (pay.case_type != "out_of_scope"))
    if method == "DIP" and store.has(DIP_REVIEW.name):
        pay = _reviewed(store, pay)
    s = store.table(SETL_LIST.name)
    when = s.dscg_time.year() == year
    if month is not None:
        when &= s.dscg_time.month() == month
    s = s.filter(when).select(
        "setl_id",
        "adm_way",
        patient=(s.medfee_sumamt - s.fund_pay_sumamt.fill_null(0)).cast("decimal(16, 2)"),
    )
    r = store.table(DRG_RESULT.name)
    r = (
        r.filter(r.scheme == scheme)
        .select("setl_id", "has_mcc")
        .distinct(on="setl_id", keep="first")
    )
    t = pay.join(s, "setl_id").left_join(r, "setl_id").drop("setl_id_right")
    crit = (t.adm_way == "1") | t.has_mcc.fill_null(False)
    cases = (
        t.select(
            "setl_id",
            "medins_code",
            "case_type",
            "group",
            "weight_or_score",
            "coefficient",
            "rate_or_point_value",
            standard=t.standard_payment,
            actual=t.actual_cost,
            patient=t.patient,
            critical=crit,
        )
        .order_by("setl_id")
        .to_pyarrow()
    )
    fen: dict[str, int] = {}
    if decided is not None:
        # The review workflow's final decisions replace the automatic 明确违规 deductions.
        fen = net_deductions(decided)
    elif store.has(FINDING.name):
        f = settled_findings(store.table(FINDING.name))
        f = f.filter(f.sev_deg == "1").select("setl_id", "vola_amt", "detail")
        fen = net_deductions(f.to_pyarrow())
    deduction = [yuan(fen.get(sid, 0)) for sid in cases.column("setl_id").to_pylist()]
    return cases.append_column("deduction", pa.array(deduction, pa.decimal128(16, 2)))


def _reviewed(store: Engine, pay: Any) -> Any:
    """Extreme DIP cases the expert panel approved (``dip_review.status = approved``) are
    paid at their proposed score, from the row's own point value and coefficient."""
    import ibis

    rv = store.table(DIP_REVIEW.name)
    rv = rv.filter(rv.status == "approved").select(r_setl="setl_id", r_score="proposed_score")
    j = pay.left_join(rv, pay.setl_id == rv.r_setl)
    ok = j.r_score.notnull() & j.rate_or_point_value.notnull()
    amount = (j.r_score * j.rate_or_point_value * j.coefficient).round(2)
    amount = amount.cast("decimal(38, 2)").cast("decimal(16, 2)")
    return j.mutate(
        weight_or_score=ibis.ifelse(ok, j.r_score, j.weight_or_score),
        standard_payment=ibis.ifelse(ok, amount, j.standard_payment),
    ).drop("r_setl", "r_score")


def _fen(col: pa.ChunkedArray) -> np.ndarray:
    # Decimal(16,2) → exact integer fen through the scaled integer representation.
    return np.array([to_fen(v) if v is not None else 0 for v in col.to_pylist()], dtype=np.int64)


def settle(
    store: Engine,
    config: dict[str, dict[str, Any]],
    *,
    period: str,
    year_end_clearing: bool = False,
    special_review: str | Path | None = None,
    new_tech: str | Path | None = None,
    deductions: str | Path | None = None,
    decided: pa.Table | None = None,
) -> Ledger:
    """Compute and store one settlement run (replacing an earlier run of the same period).

    ``decided`` (``setl_id, vola_amt, detail``: the review workflow's final decisions, see
    ``huiyan.review.settle``) replaces the store's 明确违规 findings as the violation deductions.
    Year-end clearing fits the rate / point value to ``settlement.fund_budget``
    (``budget.close_year``).
    """
    m = _PERIOD.match(period)
    if not m:
        raise InputError(f"结算期间 {period!r} 格式应为 YYYY-MM (如 2025-12)")
    year, month = int(m.group(1)), int(m.group(2))
    t = _cases(store, config, year, None if year_end_clearing else month, decided)
    if t.num_rows == 0:
        raise InputError(f"{period}: 没有可结算的病例 (请先运行 huiyan price)")
    ids = np.array(t.column("setl_id").to_pylist(), dtype=object)
    sr = read_amounts(special_review, amount=False) if special_review else {}
    nt = read_amounts(new_tech, amount=True) if new_tech else {}
    extra = read_amounts(deductions, amount=True) if deductions else {}
    cases = Cases(
        setl_id=ids,
        medins_code=np.array(t.column("medins_code").to_pylist(), dtype=object),
        case_type=np.array(t.column("case_type").to_pylist(), dtype=object),
        standard=_fen(t.column("standard")),
        actual=_fen(t.column("actual")),
        patient=_fen(t.column("patient")),
        critical=np.array(t.column("critical").to_pylist(), dtype=bool),
        special_review=np.array([s in sr for s in ids], dtype=bool),
        new_tech=np.array([nt.get(s, 0) for s in ids], dtype=np.int64),
        deduction=_fen(t.column("deduction"))
        + np.array([extra.get(s, 0) for s in ids], dtype=np.int64),
    )
    if year_end_clearing:
        kind = "year_end"
        units, provisional = _units(t)
        ledger = close_year(
            cases,
            units,
            provisional,
            settlement=config["settlement"],
            method=config["payment"]["method"],
            prepaid=_prepaid(store, year),
        ).ledger
    else:
        kind = "monthly"
        ledger = monthly(cases, prepay_share=str(config["settlement"]["prepay_share"]))
    _write(store, ledger, period=str(year) if year_end_clearing else period, kind=kind)
    return ledger


def _units(t: pa.Table) -> tuple[list[int | None], Decimal | None]:
    """Per case weight × coefficient (re-priced at year end) and the provisional value.

    Cases paid by item or per bed-day keep their amount (None).
    """
    units: list[int | None] = []
    provisional: Decimal | None = None
    for g, w, c, r in zip(
        t.column("group").to_pylist(),
        t.column("weight_or_score").to_pylist(),
        t.column("coefficient").to_pylist(),
        t.column("rate_or_point_value").to_pylist(),
        strict=True,
    ):
        if g == "PERDIEM" or w is None or r is None:
            units.append(None)
            continue
        units.append(units_of(w, c))
        provisional = r if provisional is None else max(provisional, r)
    return units, provisional


def _prepaid(store: Engine, year: int) -> dict[str, int]:
    if not store.has(SETTLEMENT.name):
        return {}
    t = store.table(SETTLEMENT.name)
    monthly_rows = t.filter((t.kind == "monthly") & t.period.startswith(f"{year}-"))
    sums = store.to_arrow(
        monthly_rows.group_by("medins_code").aggregate(paid=monthly_rows.paid.sum())
    )
    return {r["medins_code"]: to_fen(r["paid"]) for r in sums.to_pylist()}


def _write(store: Engine, ledger: Ledger, *, period: str, kind: str) -> None:
    def table(rows: list[dict[str, Any]], spec: Any, money: tuple[str, ...]) -> pa.Table:
        rows = [
            {
                **r,
                "period": period,
                "kind": kind,
                **{k: yuan(v) for k, v in r.items() if k in money and v is not None},
            }
            for r in rows
        ]
        cols = {c: pa.array([r.get(c) for r in rows], spec[c].type) for c in spec.columns}
        return pa.table(cols)

    p = ledger.pool
    identity = p["pool_in"] == p["paid_out"] + p["withheld"] + p["redistributed"]
    pool = {**p, "reconciled": bool(p.get("reconciled", True)) and identity}
    # The three ledger tables of a period are replaced together: a failure leaves the period
    # as it was, never hospitals without their cases or pool.
    with store.transaction():
        for spec, rows, money in (
            (SETTLEMENT, ledger.hospitals, _MONEY_COLS),
            (SETTLEMENT_CASE, ledger.cases, ("fund_due", "deduction", "redistributed")),
            (SETTLEMENT_POOL, [pool], _POOL_MONEY),
        ):
            # A ledger table stored by an older huiyan (other columns) is rebuilt, not appended to.
            store.drop_stale(spec.name, types=False)
            store.replace_where(
                spec.name, {"period": [period], "kind": [kind]}, table(rows, spec, money)
            )
