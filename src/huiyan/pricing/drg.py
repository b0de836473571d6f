"""DRG payment per case (§1.3–1.5): rate from the budget, coefficients, outliers, per-diem.

``price_drg`` returns the ``drg_standard`` rows, the ``payment_rate`` rows and the ``payment``
rows (method DRG) for every settlement that has a result in the payment scheme.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ibis

from huiyan.errors import InputError
from huiyan.model.tables import DRG_RESULT
from huiyan.pricing.cases import by_level, case_base, latest_year
from huiyan.pricing.formulas import base_rate, high_points_payment, standard_payment
from huiyan.pricing.weights import apply_published, derive_weights

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.engine import Store


@dataclass
class DrgPricing:
    """What DRG pricing produced (Ibis expressions, not yet executed except the scalars)."""

    standards: ir.Table
    payment: ir.Table
    rate: float
    budget: float
    total_weight: float
    perdiem_rate: float | None
    notes: list[str]


def _money(x: ir.NumericValue) -> ir.DecimalValue:
    return x.round(2).cast("decimal(16, 2)")


def price_drg(store: Store, config: dict[str, dict[str, Any]]) -> DrgPricing:
    """Derive DRG standards and price every case of the payment scheme."""
    p = config["payment"]["drg"]
    weights = [float(w) for w in config["payment"]["history"]["year_weights"]]
    scheme = config["grouping"]["payment_scheme"]
    r = store.ibis_table(DRG_RESULT.name)
    r = r.filter(r.scheme == scheme).select("setl_id", "status", "drg", "has_mcc")
    cases = case_base(store).join(r, "setl_id")
    latest = latest_year(cases)
    if latest is None:
        raise InputError(f"没有可用于测算的DRG分组结果 (drg_result, 方案 {scheme})")
    long_stay = cases.los > int(p["perdiem_min_days"])
    grouped = cases.filter(cases.in_scope & (cases.status == "SUCCESS") & ~long_stay)
    standards = apply_published(
        store, derive_weights(grouped, latest=latest, weights=weights, params=p), scheme
    )

    # Rate method: budget / Σ RW over the latest year's grouped cases (§1.3).
    last = grouped.filter(grouped.year == latest).join(standards.select("drg", "weight"), "drg")
    sums = last.aggregate(cost=last.cost.sum(), rw=last.weight.sum()).to_pyarrow().to_pylist()[0]
    budget = (
        float(p["budget"]) if p["budget"] is not None else sums["cost"] * (1 + float(p["growth"]))
    )
    total_weight = float(sums["rw"] or 0.0)
    if total_weight <= 0:
        raise InputError("DRG测算: 最近一年没有可计算权重的病例, 无法计算费率")
    rate = base_rate(budget, total_weight)

    perdiem_rate = p["perdiem_rate"]
    if perdiem_rate is None:
        ls = cases.filter(cases.in_scope & long_stay)
        row = ls.aggregate(c=ls.cost.sum(), d=ls.los.sum()).to_pyarrow().to_pylist()[0]
        perdiem_rate = float(row["c"]) / float(row["d"]) if row["d"] else None

    payment = _case_payments(cases, standards, p, rate=rate, perdiem_rate=perdiem_rate)
    return DrgPricing(
        standards=standards.mutate(scheme=ibis.literal(scheme)),
        payment=payment,
        rate=rate,
        budget=budget,
        total_weight=total_weight,
        perdiem_rate=float(perdiem_rate) if perdiem_rate is not None else None,
        notes=[],
    )


def _case_payments(
    cases: ir.Table,
    standards: ir.Table,
    p: dict[str, Any],
    *,
    rate: float,
    perdiem_rate: float | None,
) -> ir.Table:
    t = cases.left_join(standards.select("drg", "weight", "stable"), "drg").drop("drg_right")
    # Point method 点数法: points = RW × scale and point value = rate / scale; same money (§1.3).
    scale = float(p["point_scale"]) if p["rate_method"] == "point" else 1.0
    lv = t.medins_lv.fill_null("3")
    coef = by_level(lv, p["coefficients"], medins_code=t.medins_code)
    k_high = by_level(lv, p["high_multiple"], default=3.0)
    k_low = by_level(lv, p["low_multiple"], default=0.3)
    std0 = standard_payment(t.weight, rate)
    std = standard_payment(t.weight, rate, coef)
    ratio = t.cost / std
    paid_by_weight = (t.status == "SUCCESS") & t.weight.notnull()
    if p["unstable_payment"] == "by_item":
        paid_by_weight &= t.stable.fill_null(False)
    case_type = ibis.cases(
        (~t.in_scope, "out_of_scope"),
        (t.los > int(p["perdiem_min_days"]), "perdiem"),
        (t.status == "QY", "qy"),
        (t.status != "SUCCESS", "ungroupable"),
        (~paid_by_weight, "unstable"),
        (ratio < k_low, "low"),
        (ratio > k_high, "high"),
        else_="normal",
    )
    t = t.mutate(_coef=coef, _k_high=k_high, _std0=std0, _std=std, case_type=case_type)

    # Only the top high_cap_share of a hospital's discharges are paid by item (§1.4).
    n_h = t.count().over(group_by="medins_code")
    excess_rank = ibis.row_number().over(
        group_by=["medins_code", t.case_type == "high"], order_by=ibis.desc(t.cost - t._std)
    )
    cap = (n_h * float(p["high_cap_share"])).floor()
    t = t.mutate(_high_by_item=(t.case_type == "high") & (excess_rank < cap))

    by_item = t.cost_amt.cast("float64")
    qy_paid = by_item * float(p["qy_discount"])
    perdiem = (t.los * perdiem_rate) * t._coef if perdiem_rate is not None else by_item
    if p["outlier_payment"] == "points":
        high_pay = high_points_payment(t._std0, t.cost, t._k_high, t._coef)
        low_pay = t.cost * t._coef
    else:
        high_pay = by_item
        low_pay = by_item
    amount = ibis.cases(
        (t.case_type == "out_of_scope", by_item),
        (t.case_type == "perdiem", perdiem),
        (t.case_type.isin(["qy", "ungroupable"]), qy_paid),
        (t.case_type == "unstable", by_item),
        (t.case_type == "low", low_pay),
        (t._high_by_item, high_pay),
        else_=t._std,
    )
    standard_amt = _money(amount)
    group = ibis.cases((t.case_type == "perdiem", "PERDIEM"), else_=t.drg)
    return t.select(
        "setl_id",
        "medins_code",
        method=ibis.literal("DRG"),
        group=group,
        weight_or_score=t.weight * scale,
        rate_or_point_value=ibis.literal(round(rate / scale, 2)).cast("decimal(16, 2)"),
        coefficient=t._coef,
        case_type=t.case_type,
        standard_payment=standard_amt,
        actual_cost=t.cost_amt,
        difference=(standard_amt - t.cost_amt).cast("decimal(16, 2)"),
    )
