"""The whole pricing run: DIP catalog and matching, calibration, DRG and DIP payment, writes.

Results replace earlier ones (drg_standard, payment_rate, dip_catalog, dip_result, payment,
pricing_warning, dip_review), written in a fixed row order, so a rerun on the same data gives
byte-identical tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from huiyan.errors import InputError
from huiyan.model.exact import fen_round, q6
from huiyan.model.payment_tables import (
    DIP_CATALOG,
    DIP_REVIEW,
    DRG_STANDARD,
    PAYMENT_RATE,
    PRICING_WARNING,
)
from huiyan.model.tables import DIP_RESULT, PAYMENT
from huiyan.pricing import frozen
from huiyan.pricing.cases import case_base
from huiyan.pricing.dip import price_dip
from huiyan.pricing.dip_catalog import recalibrate
from huiyan.pricing.drg import price_drg
from huiyan.pricing.standards import calibration_window, warning_table

if TYPE_CHECKING:
    from huiyan.engine import Engine


@dataclass
class PricingRun:
    rows: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _frozen(store: Engine, t: pa.Table, method: str, run: PricingRun) -> pa.Table:
    t, n = frozen.apply(store, t, method)
    if n:
        run.notes.append(f"{method}: {n} 例按出院时生效的冻结/发布标准支付 (price_freeze)")
    return t


def _rate_row(method: str, kind: str, value: Decimal, **kw: Any) -> dict[str, Any]:
    if kw.get("budget") is not None:
        kw["budget"] = fen_round(kw["budget"])
    if kw.get("total_units") is not None:
        kw["total_units"] = q6(kw["total_units"])
    return {"method": method, "kind": kind, "value": q6(value), **kw}


def price_all(
    store: Engine, config: dict[str, dict[str, Any]], *, derived_catalog: bool = True
) -> PricingRun:
    """Price every settlement by DRG (payment scheme) and DIP and store the results.

    The DIP catalog and ``dip_result`` are stored already (the grouper's work); a derived
    catalog gets its scores and reference costs recalibrated here, a published one is kept.
    """
    run = PricingRun()
    derived = derived_catalog
    base = case_base(store)
    window = calibration_window(base, config)
    run.notes += window.notes
    dip_std = recalibrate(store, base, window, config)
    if derived:
        store.drop_stale(DIP_CATALOG.name)
        store.write(DIP_CATALOG.name, dip_std.catalog, mode="replace")
        # dip_result carries the packet score for readers that do not join the catalog.
        res = store.table(DIP_RESULT.name)
        cat = store.table(DIP_CATALOG.name).select("catalog", "dip_group", _s="score")
        j = res.left_join(cat, ["catalog", "dip_group"])
        j = j.mutate(score=j._s.cast("float64")).select(*res.columns).order_by("setl_id")
        store.write(DIP_RESULT.name, store.to_arrow(j), mode="replace")
    run.rows[DIP_CATALOG.name] = store.count(DIP_CATALOG.name)
    run.rows[DIP_RESULT.name] = store.count(DIP_RESULT.name)
    run.notes += dip_std.notes

    store.drop_stale(DRG_STANDARD.name, PAYMENT_RATE.name, PAYMENT.name)
    rates: list[dict[str, Any]] = []
    payments: list[pa.Table] = []
    warnings: list[dict[str, Any]] = []
    perdiem = None
    try:
        drg = price_drg(store, config)
    except InputError as exc:
        run.notes.append(f"DRG测算跳过: {exc}")
    else:
        run.rows[DRG_STANDARD.name] = store.write(
            DRG_STANDARD.name, drg.standards.sort_by("drg"), mode="replace"
        )
        run.notes += [n for n in drg.notes if n not in run.notes]
        rates.append(
            _rate_row(
                "DRG",
                "rate",
                drg.rate,
                budget=drg.budget,
                total_units=drg.total_weight,
                note="费率 = 预算 / 总权重",
            )
        )
        for lv, v in drg.coefficients.items():
            rates.append(_rate_row("DRG", f"coefficient:{lv}", v, note="级别系数"))
        perdiem = drg.perdiem_rate
        if perdiem is not None:
            rates.append(_rate_row("PERDIEM", "perdiem", perdiem, note="床日费用标准"))
        payments.append(_frozen(store, store.to_arrow(drg.payment.order_by("setl_id")), "DRG", run))
        warnings += drg.warnings
    dip = price_dip(
        store,
        config,
        window=window,
        coefficients=dip_std.coefficients,
        severity=dip_std.severity,
        perdiem_rate=perdiem,
    )
    if dip.point_value is not None:
        rates.append(
            _rate_row(
                "DIP",
                "point_value",
                dip.point_value,
                budget=dip.budget,
                total_units=dip.total_score,
                note="预算点值 = 预算 / 总分值",
            )
        )
    for lv, v in dip_std.coefficients.items():
        rates.append(_rate_row("DIP", f"coefficient:{lv}", v, note="级别系数"))
    for s, v in dip_std.severity.items():
        rates.append(_rate_row("DIP", f"severity:{s}", v, note="辅助目录严重程度系数"))
    payments.append(_frozen(store, store.to_arrow(dip.payment.order_by("setl_id")), "DIP", run))
    cols = PAYMENT_RATE.columns
    store.write(
        PAYMENT_RATE.name,
        pa.table({c: pa.array([r.get(c) for r in rates], PAYMENT_RATE[c].type) for c in cols}),
        mode="replace",
    )
    written = 0
    for i, t in enumerate(payments):
        written += store.write(PAYMENT.name, t, mode="replace" if i == 0 else "append")
    run.rows[PAYMENT.name] = written
    run.rows[PRICING_WARNING.name] = store.write(
        PRICING_WARNING.name, warning_table(warnings), mode="replace"
    )
    review = store.to_arrow(dip.review.order_by("setl_id"))
    run.rows[DIP_REVIEW.name] = store.write(DIP_REVIEW.name, review, mode="replace")
    if review.num_rows:
        run.notes.append(
            f"DIP极端异常病例 {review.num_rows} 例待专家评审 (dip_review), 暂按病种分值支付"
        )
    if warnings:
        run.notes.append(f"测算预警 {len(warnings)} 条 (pricing_warning)")
    return run
