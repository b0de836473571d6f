"""DIP payment per case (§2.3–2.6): point value, coefficients, severity, deviation, per-diem.

Score per case = packet score × severity coefficient (辅助目录), then the deviation rule against
A × severity coefficient (A: the packet's complete-year mean at the case's level). Extreme cases
(> ``extreme`` × A) are not auto-paid beyond the packet score: they are listed in
``dip_review`` for the expert panel. Long stays are paid per bed-day like DRG. Every amount is
``round(score × point value × coefficient, 2)`` from the stored factors (``exact.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import ibis

from huiyan.model.exact import FACTOR, lit, money, product, q6
from huiyan.model.payment_tables import DIP_CATALOG
from huiyan.model.tables import DIP_RESULT
from huiyan.pricing.cases import by_level, case_base
from huiyan.pricing.dip_catalog import severity_state
from huiyan.pricing.standards import Window

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.engine import Engine


@dataclass
class DipPricing:
    payment: ir.Table
    review: ir.Table
    point_value: Decimal | None
    budget: Decimal
    total_score: Decimal


def price_dip(
    store: Engine,
    config: dict[str, dict[str, Any]],
    *,
    window: Window,
    coefficients: dict[str, Decimal],
    severity: dict[str, Decimal],
    perdiem_rate: Decimal | None,
) -> DipPricing:
    """Price every case with a DIP result; cases without one are ``ungroupable`` by item."""
    p = config["payment"]["dip"]
    dev = p["deviation"]
    base = case_base(store)
    r = store.table(DIP_RESULT.name).select("setl_id", "dip_group", "catalog")
    cat_score = store.table(DIP_CATALOG.name)
    cat = cat_score.select(
        "catalog",
        "dip_group",
        "ref_cost_lv1",
        "ref_cost_lv2",
        "ref_cost_lv3",
        "primary_care",
        pscore=cat_score.score.cast("decimal(38, 6)").cast(FACTOR),
    )
    r = r.left_join(cat, ["catalog", "dip_group"]).drop("catalog_right", "dip_group_right")
    t = base.left_join(r, "setl_id").drop("setl_id_right")
    sev = severity_state(store, config["grouping"]["payment_scheme"])
    t = t.left_join(sev, "setl_id").drop("setl_id_right")

    lv = t.medins_lv.fill_null("3")
    pc = t.primary_care.fill_null(False)
    coef = ibis.ifelse(pc, lit(1), by_level(lv, coefficients, medins_code=t.medins_code))
    aux = (
        ibis.cases(*[(t.severity == k, lit(v)) for k, v in severity.items()], else_=lit(1))
        if severity
        else lit(1)
    )
    a = ibis.cases((lv == "1", t.ref_cost_lv1), (lv == "2", t.ref_cost_lv2), else_=t.ref_cost_lv3)
    a_adj = (
        (a.cast("decimal(38, 6)").cast(FACTOR) * aux).cast("decimal(38, 6)").cast(FACTOR)
    )  # A after severity correction (§2.5)
    long_stay = (t.los > int(config["payment"]["drg"]["perdiem_min_days"])) & bool(p["perdiem"])
    k = {name: lit(dev[name]) for name in ("low", "high", "extreme")}
    case_type = ibis.cases(
        (~t.in_scope, "out_of_scope"),
        (long_stay & (perdiem_rate is not None), "perdiem"),
        (t.pscore.isnull(), "ungroupable"),
        (t.cost_amt > k["extreme"] * a_adj, "extreme_high"),
        (t.cost_amt > k["high"] * a_adj, "high"),
        (t.cost_amt < k["low"] * a_adj, "low"),
        else_="normal",
    )
    t = t.mutate(
        case_type=case_type, _coef=coef, _s0=(t.pscore * aux).cast("decimal(38, 6)").cast(FACTOR)
    )
    ratio = t.cost_amt.cast("float64") / a_adj.cast("float64")
    score = ibis.cases(
        (t.case_type == "low", (t._s0.cast("float64") * ratio).cast("decimal(38, 6)").cast(FACTOR)),
        (
            t.case_type == "high",
            (t._s0.cast("float64") * (ratio - float(dev["high"]) + 1))
            .cast("decimal(38, 6)")
            .cast(FACTOR),
        ),
        else_=t._s0,
    )
    t = t.mutate(
        _score=score,
        _ratio=ratio.cast("decimal(38, 6)").cast(FACTOR),
        _a=a_adj.cast("decimal(16, 2)"),
    )
    scored = t.case_type.isin(["normal", "low", "high", "extreme_high"])

    # Point value = budget / Σ final scores of the base year's cases (§2.3).
    last = t.filter(scored & (t.year == window.base_year))
    sums = last.aggregate(
        c=last.cost_amt.sum().cast("decimal(38, 2)"),
        s=last._score.cast("decimal(38, 6)").sum().cast("decimal(38, 6)"),
    )
    row = sums.to_pyarrow().to_pylist()[0]
    budget = (
        Decimal(str(p["budget"]))
        if p["budget"] is not None
        else Decimal(row["c"] or 0) * (1 + Decimal(str(p["growth"])))
    )
    total = Decimal(row["s"] or 0)
    if p["point_value"] is not None:
        point_value: Decimal | None = q6(p["point_value"])
    else:
        point_value = q6(budget / total) if total > 0 else None
    pv = lit(point_value or 0)

    null = ibis.null(FACTOR)
    by_item = ~scored & (t.case_type != "perdiem")
    w = ibis.cases(
        (by_item, null),
        (t.case_type == "perdiem", t.los.cast("decimal(38, 6)").cast(FACTOR)),
        else_=t._score,
    )
    rate = ibis.cases((by_item, null), (t.case_type == "perdiem", lit(perdiem_rate or 0)), else_=pv)
    c = ibis.ifelse(by_item, lit(1), t._coef)
    t = t.mutate(
        _w=w.cast("decimal(38, 6)").cast(FACTOR),
        _r=rate.cast("decimal(38, 6)").cast(FACTOR),
        _c=c.cast("decimal(38, 6)").cast(FACTOR),
    )
    std = money(ibis.ifelse(t._w.isnull(), product(t.cost_amt, t._c), product(t._w, t._r, t._c)))
    payment = t.select(
        "setl_id",
        "medins_code",
        method=ibis.literal("DIP"),
        group=ibis.cases(
            (t.case_type == "perdiem", "PERDIEM"), else_=t.dip_group.fill_null("0000")
        ),
        weight_or_score=t._w,
        rate_or_point_value=t._r,
        coefficient=t._c,
        case_type=t.case_type,
        standard_payment=std,
        actual_cost=t.cost_amt,
        difference=(std - t.cost_amt).cast("decimal(16, 2)"),
    )
    ex = t.filter(t.case_type == "extreme_high")
    review = ex.select(
        "setl_id",
        "medins_code",
        "dip_group",
        actual_cost=ex.cost_amt,
        ref_cost=ex._a,
        ratio=ex._ratio,
        score=ex._s0,
        proposed_score=(
            ex._s0.cast("float64") * (ex._ratio.cast("float64") - float(dev["high"]) + 1)
        )
        .cast("decimal(38, 6)")
        .cast(FACTOR),
        status=ibis.literal("pending"),
    )
    return DipPricing(
        payment=payment, review=review, point_value=point_value, budget=budget, total_score=total
    )
