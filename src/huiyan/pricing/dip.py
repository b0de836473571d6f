"""DIP payment per case (§2.3–2.5): point value from the budget, coefficients, deviation cases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ibis

from huiyan.model.payment_tables import DIP_CATALOG
from huiyan.model.tables import DIP_RESULT
from huiyan.pricing.cases import by_level, case_base, latest_year
from huiyan.pricing.formulas import dip_case_payment, dip_high_score, dip_low_score

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.engine import Store


@dataclass
class DipPricing:
    payment: ir.Table
    point_value: float | None
    budget: float
    total_score: float


def price_dip(store: Store, config: dict[str, dict[str, Any]]) -> DipPricing:
    """Price every case with a DIP result; cases without one are ``ungroupable`` by item."""
    p = config["payment"]["dip"]
    dev = p["deviation"]
    base = case_base(store)
    r = store.ibis_table(DIP_RESULT.name).select("setl_id", "dip_group", "score", "catalog")
    cat = store.ibis_table(DIP_CATALOG.name).select(
        "catalog", "dip_group", "ref_cost_lv1", "ref_cost_lv2", "ref_cost_lv3"
    )
    r = r.left_join(cat, ["catalog", "dip_group"]).drop("catalog_right", "dip_group_right")
    t = base.left_join(r, "setl_id").drop("setl_id_right")
    latest = latest_year(t)

    # Budget point value = total cost / Σ scores of the latest year's in-scope cases (§2.3).
    last = t.filter(t.in_scope & t.score.notnull() & (t.year == latest))
    sums = last.aggregate(c=last.cost.sum(), s=last.score.sum()).to_pyarrow().to_pylist()[0]
    budget = (
        float(p["budget"])
        if p["budget"] is not None
        else float(sums["c"] or 0) * (1 + float(p["growth"]))
    )
    total = float(sums["s"] or 0.0)
    point_value = budget / total if total > 0 else None

    lv = t.medins_lv.fill_null("3")
    coef = by_level(lv, p["coefficients"], medins_code=t.medins_code)
    a = ibis.cases((lv == "1", t.ref_cost_lv1), (lv == "2", t.ref_cost_lv2), else_=t.ref_cost_lv3)
    ratio = t.cost / a.cast("float64")
    case_type = ibis.cases(
        (~t.in_scope, "out_of_scope"),
        (t.score.isnull(), "ungroupable"),
        (ratio > float(dev["extreme"]), "extreme_high"),
        (ratio > float(dev["high"]), "high"),
        (ratio < float(dev["low"]), "low"),
        else_="normal",
    )
    t = t.mutate(case_type=case_type, _ratio=ratio, _coef=coef)
    score = ibis.cases(
        (t.case_type == "low", dip_low_score(t.score, t._ratio)),
        # Extreme cases await expert review; until decided they are scored as ultra-high.
        (
            t.case_type.isin(["high", "extreme_high"]),
            dip_high_score(t.score, t._ratio, float(dev["high"])),
        ),
        else_=t.score,
    )
    by_item = t.cost_amt.cast("float64")
    pv = float(point_value) if point_value is not None else 0.0
    amount = ibis.ifelse(
        t.case_type.isin(["out_of_scope", "ungroupable"]),
        by_item,
        dip_case_payment(score, pv, t._coef),
    )
    std = amount.round(2).cast("decimal(16, 2)")
    payment = t.select(
        "setl_id",
        "medins_code",
        method=ibis.literal("DIP"),
        group=t.dip_group.fill_null("0000"),
        weight_or_score=score,
        rate_or_point_value=ibis.literal(round(pv, 2)).cast("decimal(16, 2)"),
        coefficient=t._coef,
        case_type=t.case_type,
        standard_payment=std,
        actual_cost=t.cost_amt,
        difference=(std - t.cost_amt).cast("decimal(16, 2)"),
    )
    return DipPricing(payment=payment, point_value=point_value, budget=budget, total_score=total)
