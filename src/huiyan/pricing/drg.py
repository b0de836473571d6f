"""DRG payment per case (§1.3–1.5): rate from the budget, coefficients, outliers, per-diem.

``price_drg`` returns the ``drg_standard`` rows, the rate and the ``payment`` rows (method
DRG) for every settlement that has a result in the payment scheme. Factors are exact
DECIMAL(18,6) and every amount is ``round(weight × rate × coefficient, 2)`` or, paid by item,
``round(actual × factor, 2)`` (see ``exact.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import ibis
import pyarrow as pa

from huiyan.errors import InputError
from huiyan.model.exact import FACTOR, lit, money, product, q6
from huiyan.model.tables import DRG_RESULT
from huiyan.pricing.cases import by_level, case_base
from huiyan.pricing.standards import (
    DrgStandards,
    Window,
    calibration_window,
    derive_drg_standards,
)

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.engine import Engine


@dataclass
class DrgPricing:
    """What DRG pricing produced (the payment rows as an Ibis expression)."""

    standards: pa.Table
    payment: ir.Table
    rate: Decimal
    budget: Decimal
    total_weight: Decimal
    perdiem_rate: Decimal | None
    coefficients: dict[str, Decimal]
    warnings: list[dict[str, Any]]
    notes: list[str]
    window: Window


def _sum(t: ir.Table, **aggs: ir.Value) -> dict[str, Any]:
    return t.aggregate(**aggs).to_pyarrow().to_pylist()[0]


def price_drg(store: Engine, config: dict[str, dict[str, Any]]) -> DrgPricing:
    """Derive DRG standards on complete years and price every case of the payment scheme."""
    p = config["payment"]["drg"]
    scheme = config["grouping"]["payment_scheme"]
    r = store.table(DRG_RESULT.name)
    r = r.filter(r.scheme == scheme).select("setl_id", "status", "drg")
    base = case_base(store)
    cases = base.join(r, "setl_id")
    if cases.count().to_pyarrow().as_py() == 0:
        raise InputError(f"没有可用于测算的DRG分组结果 (drg_result, 方案 {scheme})")
    window = calibration_window(base, config)
    long_stay = cases.los > int(p["perdiem_min_days"])
    grouped = cases.filter(cases.in_scope & (cases.status == "SUCCESS") & ~long_stay)
    std: DrgStandards = derive_drg_standards(store, grouped, window, config)
    weights = ibis.memtable(std.table.select(["drg", "weight", "stable"]))

    # Rate method: budget / Σ RW over the base (latest complete) year (§1.3).
    last = grouped.filter(grouped.year == window.base_year).join(weights, "drg")
    sums = _sum(
        last,
        cost=last.cost_amt.sum().cast("decimal(38, 2)"),
        rw=last.weight.cast("decimal(38, 6)").sum().cast("decimal(38, 6)"),
    )
    budget = (
        Decimal(str(p["budget"]))
        if p["budget"] is not None
        else Decimal(sums["cost"] or 0) * (1 + Decimal(str(p["growth"])))
    )
    total_weight = Decimal(sums["rw"] or 0)
    if p["rate"] is not None:
        rate = q6(p["rate"])
    elif total_weight > 0:
        rate = q6(budget / total_weight)
    else:
        raise InputError("DRG测算: 最近完整年度没有可计算权重的病例, 无法计算费率")

    perdiem_rate = q6(p["perdiem_rate"]) if p["perdiem_rate"] is not None else None
    if perdiem_rate is None:
        ls = cases.filter(cases.in_scope & long_stay & cases.year.isin(list(window.weights)))
        row = _sum(ls, c=ls.cost_amt.sum().cast("decimal(38, 2)"), d=ls.los.sum())
        perdiem_rate = q6(Decimal(row["c"]) / Decimal(row["d"])) if row["d"] else None

    payment = _case_payments(
        cases, weights, std.coefficients, p, rate=rate, perdiem_rate=perdiem_rate
    )
    notes = list(std.notes)
    if std.coefficient_source == "derived":
        notes.append(
            "DRG级别系数(按病组结构标化的费用比): "
            + ", ".join(f"{lv}级 {v}" for lv, v in std.coefficients.items())
        )
    return DrgPricing(
        standards=std.table,
        payment=payment,
        rate=rate,
        budget=budget,
        total_weight=total_weight,
        perdiem_rate=perdiem_rate,
        coefficients=std.coefficients,
        warnings=std.warnings,
        notes=notes,
        window=window,
    )


def _case_payments(
    cases: ir.Table,
    weights: ir.Table,
    coefficients: dict[str, Decimal],
    p: dict[str, Any],
    *,
    rate: Decimal,
    perdiem_rate: Decimal | None,
) -> ir.Table:
    t = cases.left_join(weights, "drg").drop("drg_right")
    # Point method 点数法: points = RW × scale and point value = rate / scale; same money (§1.3).
    scale = Decimal(str(p["point_scale"])) if p["rate_method"] == "point" else Decimal(1)
    lv = t.medins_lv.fill_null("3")
    coef = by_level(lv, coefficients, medins_code=t.medins_code)
    k_high = by_level(lv, p["high_multiple"], default=3.0)
    k_low = by_level(lv, p["low_multiple"], default=0.3)
    r = lit(rate)
    std = t.weight * r * coef
    paid_by_weight = (t.status == "SUCCESS") & t.weight.notnull()
    if p["unstable_payment"] == "by_item":
        paid_by_weight &= t.stable.fill_null(False)
    # Decimal comparisons (cost < k × standard), so no float ratio decides a case type.
    case_type = ibis.cases(
        (~t.in_scope, "out_of_scope"),
        (t.los > int(p["perdiem_min_days"]), "perdiem"),
        (t.status == "QY", "qy"),
        (t.status != "SUCCESS", "ungroupable"),
        (~paid_by_weight, "unstable"),
        (t.cost_amt < k_low * std, "low"),
        (t.cost_amt > k_high * std, "high"),
        else_="normal",
    )
    t = t.mutate(_coef=coef, _k_high=k_high, _std=std, case_type=case_type)

    # Only the top high_cap_share of a hospital's discharges are paid by item (§1.4).
    n_h = t.count().over(group_by="medins_code")
    excess_rank = ibis.row_number().over(
        group_by=["medins_code", t.case_type == "high"],
        order_by=[ibis.desc(t.cost_amt - t._std), t.setl_id],
    )
    cap = (n_h * float(p["high_cap_share"])).floor()
    t = t.mutate(_high_by_item=(t.case_type == "high") & (excess_rank < cap))

    one = lit(1)
    null = ibis.null(FACTOR)
    by_item = t.case_type.isin(["out_of_scope", "ungroupable", "qy", "unstable"]) | (
        (t.case_type == "low") & (p["outlier_payment"] != "points")
    )
    by_item |= t._high_by_item & (p["outlier_payment"] != "points")
    item_factor = ibis.ifelse(t.case_type.isin(["qy", "ungroupable"]), lit(p["qy_discount"]), one)
    perdiem = t.case_type == "perdiem"
    if perdiem_rate is None:
        by_item |= perdiem
    # Weight factor per case: the group weight, the stay's days for per-diem, or (points
    # variant) the outlier formula folded into an adjusted weight at six decimals.
    w = t.weight * lit(scale)
    if p["outlier_payment"] == "points":
        # high: std·coef + (cost/std0 − k)·std0  ⇒  weight' = w + (cost/std0 − k)·w / coef
        std0 = t.weight * r
        excess = (t.cost_amt / std0 - t._k_high.cast("float64")) * t.weight.cast("float64")
        w_high = (
            (t.weight.cast("float64") + excess / t._coef.cast("float64"))
            .cast("decimal(38, 6)")
            .cast(FACTOR)
        )
        w_low = (t.cost_amt / r).cast("decimal(38, 6)").cast(FACTOR)
        w = ibis.cases(
            (t._high_by_item, w_high * lit(scale)),
            (t.case_type == "low", w_low * lit(scale)),
            else_=w,
        )
    weight_out = ibis.cases(
        (by_item, null),
        (perdiem, t.los.cast("decimal(38, 6)").cast(FACTOR)),
        else_=w.cast("decimal(38, 6)").cast(FACTOR),
    )
    rate_out = ibis.cases(
        (by_item, null),
        (perdiem, lit(perdiem_rate or 0)),
        else_=lit(rate / scale),
    )
    coef_out = ibis.ifelse(by_item, item_factor, t._coef)
    t = t.mutate(
        _w=weight_out.cast("decimal(38, 6)").cast(FACTOR),
        _r=rate_out.cast("decimal(38, 6)").cast(FACTOR),
        _c=coef_out.cast("decimal(38, 6)").cast(FACTOR),
    )
    amount = ibis.ifelse(t._w.isnull(), product(t.cost_amt, t._c), product(t._w, t._r, t._c))
    standard_amt = money(amount)
    group = ibis.cases((t.case_type == "perdiem", "PERDIEM"), else_=t.drg)
    return t.select(
        "setl_id",
        "medins_code",
        method=ibis.literal("DRG"),
        group=group,
        weight_or_score=t._w,
        rate_or_point_value=t._r,
        coefficient=t._c,
        case_type=t.case_type,
        standard_payment=standard_amt,
        actual_cost=t.cost_amt,
        difference=(standard_amt - t.cost_amt).cast("decimal(16, 2)"),
    )
