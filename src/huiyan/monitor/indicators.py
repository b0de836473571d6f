"""Indicators per institution, department and doctor per month, quarter and year (Ibis).

Every indicator is a ratio of two sums over the case base (``cases.case_base``), so it can be
summed per subject and period on any engine and re-aggregated exactly; counts have no
denominator. Definitions follow docs/domain-reference.md §5; labels and warning directions live in
``monitor.yaml``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ibis

from huiyan.monitor.cases import exact_float

if TYPE_CHECKING:
    import ibis.expr.types as ir

LEVELS = ("institution", "department", "doctor")
PERIOD_TYPES = ("month", "quarter", "year")
# Subject column and peer-group expression of each level (peers: same level and type).
SUBJECT = {"institution": "medins_code", "department": "dept", "doctor": "doctor"}


def _peer(c: ir.Table, level: str) -> ir.StringValue:
    if level == "institution":
        return c.peer_group
    if level == "department":
        return c.medins_lv + "-" + c.caty
    return c.medins_lv


# Per-case ratios (cost and LOS ratios) are summed as integers in units of 10^-RATIO_DIGITS.
RATIO_DIGITS = 12


def _exact_sum(x: ir.NumericValue, scale: int = 2) -> ir.FloatingValue:
    """A sum of amounts (yuan to the fen) or, with ``scale=6``, of weights (to 10^-6), that does
    not depend on the order rows arrive in: each value as DECIMAL(38, scale), summed exactly,
    the sum read as the nearest DOUBLE (``exact_float``). A parallel DOUBLE sum differs in its
    last bits from run to run, and the same data must give the same indicator table on every
    engine.

    The scale is the one the stored columns have (MONEY, FACTOR), so the cast only drops the
    DOUBLE's representation error, far below half a unit of the scale, and every engine lands
    on the same decimal. A finer scale keeps that error, and the local engine's cast does not
    round it correctly (4437.6 became 4437.600000000001 at scale 12)."""
    return exact_float(x.cast(f"decimal(38, {scale})").sum())


def _ratio_sum(x: ir.FloatingValue) -> ir.FloatingValue:
    """An exact sum of DOUBLE ratios with any number of digits: each rounded to an integer
    number of 10^-RATIO_DIGITS with IEEE arithmetic only (multiply, add 0.5, floor), which
    every engine does bit for bit, then summed exactly. A cast of such a DOUBLE to DECIMAL
    rounds differently on the local engine (the scaled DOUBLE) and the distributed one (its
    decimal string) when a
    digit beyond the scale is near a half."""
    units = (x * 10**RATIO_DIGITS + 0.5).floor().cast("decimal(38, 0)")
    return exact_float(units.sum()) / 10**RATIO_DIGITS


def _sums(c: ir.Table, outpatient: bool) -> dict[str, ir.Value]:
    paid = c.standard_payment > 0
    sums = {
        "n": c.count(),
        "n_grouped": c.grouped.sum(),
        "n_weighted": c.weight.count(),
        "sum_weight": _exact_sum(c.weight, scale=6),
        "groups": c.drg.nunique(),
        "sum_cost": _exact_sum(c.cost),
        "sum_los": c.los.sum().cast("float64"),
        "sum_cost_ratio": _ratio_sum(c.cost_ratio),
        "n_cost_ratio": c.cost_ratio.count(),
        "sum_los_ratio": _ratio_sum(c.los_ratio),
        "n_los_ratio": c.los_ratio.count(),
        "low_risk_cases": c.low_risk.sum(),
        "low_risk_deaths": c.low_risk_death.sum(),
        "deaths": c.dead.sum(),
        "readmit_15": c.readmit_15.sum(),
        "readmit_31": c.readmit_31.sum(),
        "high": c.high.sum(),
        "low": c.low.sum(),
        "low_standard": c.low_standard.sum(),
        "long_stay": c.long_stay.sum(),
        "mcc_cc": c.mcc_cc.sum(),
        "surgical": c.surgical.sum(),
        "qy": c.qy.sum(),
        "transfer": c.transfer.sum(),
        "ownpay": _exact_sum(c.ownpay),
        "fund": _exact_sum(c.fund),
        "drug": _exact_sum(c.drug_amt),
        "consumable": _exact_sum(c.consumable_amt),
        "fee_amt": _exact_sum(c.fee_amt),
        "paid_standard": _exact_sum(ibis.ifelse(paid, c.standard_payment, 0.0)),
        "paid_cost": _exact_sum(ibis.ifelse(paid, c.cost, 0.0)),
        "findings": c.findings.sum(),
        "finding_amt": _exact_sum(c.finding_amt),
        "confirmed_amt": _exact_sum(c.confirmed_amt),
    }
    if outpatient:
        sums["pre_op"] = _exact_sum(c.pre_op)
        sums["post_op"] = _exact_sum(c.post_op)
    return sums


def definitions(w: ir.Table) -> dict[str, tuple[ir.NumericValue, ir.NumericValue | None]]:
    """indicator -> (numerator, denominator) over the per-subject sums ``w``."""
    defs: dict[str, tuple[Any, Any]] = {
        "cases": (w.n, None),
        "drg_groups": (w.groups, None),
        "total_weight": (w.sum_weight, None),
        "cmi": (w.sum_weight, w.n_weighted),
        "cost_per_case": (w.sum_cost, w.n),
        "avg_los": (w.sum_los, w.n),
        "cost_index": (w.sum_cost_ratio, w.n_cost_ratio),
        "time_index": (w.sum_los_ratio, w.n_los_ratio),
        "low_risk_mortality": (w.low_risk_deaths, w.low_risk_cases),
        "death_rate": (w.deaths, w.n),
        "readmit_15_rate": (w.readmit_15, w.n),
        "readmit_31_rate": (w.readmit_31, w.n),
        "high_outlier_share": (w.high, w.n_grouped),
        "low_outlier_share": (w.low, w.n_grouped),
        "low_standard_share": (w.low_standard, w.n_grouped),
        "long_stay_share": (w.long_stay, w.n),
        "mcc_cc_share": (w.mcc_cc, w.n_grouped),
        "surgical_share": (w.surgical, w.n_grouped),
        "ungroupable_share": (w.n - w.n_grouped - w.qy, w.n),
        "qy_share": (w.qy, w.n),
        "transfer_out_rate": (w.transfer, w.n),
        "ownpay_share": (w.ownpay, w.sum_cost),
        "personal_burden": (w.sum_cost - w.fund, w.sum_cost),
        "fund_pay_ratio": (w.fund, w.sum_cost),
        "drug_share": (w.drug, w.fee_amt),
        "consumable_share": (w.consumable, w.fee_amt),
        "payment_balance": (w.paid_standard - w.paid_cost, w.paid_cost),
        "findings_per_100": (w.findings * 100, w.n),
        "finding_amt_per_100": (w.finding_amt * 100, w.n),
        "confirmed_amt_per_100": (w.confirmed_amt * 100, w.n),
        "violation_share": (w.finding_amt, w.fund),
    }
    if "pre_op" in w.columns:
        defs["preadm_outpatient_per_case"] = (w.pre_op, w.n)
        defs["postdscg_outpatient_per_case"] = (w.post_op, w.n)
    return defs


def subject_sums(
    c: ir.Table, *, periods: tuple[str, ...] = PERIOD_TYPES, levels: tuple[str, ...] = LEVELS
) -> ir.Table:
    """The sums of every indicator per level, subject and period (one union of aggregates)."""
    outpatient = "pre_op" in c.columns
    parts = []
    for level in levels:
        for ptype in periods:
            g = c.mutate(
                level=ibis.literal(level),
                subject=c[SUBJECT[level]],
                peer=_peer(c, level),
                period_type=ibis.literal(ptype),
                period=c[ptype],
            )
            keys = ["level", "subject", "medins_code", "peer", "period_type", "period"]
            parts.append(g.group_by(keys).aggregate(**_sums(g, outpatient)))
    return ibis.union(*parts, distinct=False)


def long_table(w: ir.Table) -> ir.Table:
    """The ``indicator`` table (long) from the per-subject sums."""
    parts = []
    for name, (num, den) in definitions(w).items():
        num = num.cast("float64")
        if den is None:
            den_v, value = ibis.null("float64"), num
        else:
            den_v = den.cast("float64")
            value = ibis.ifelse(den_v != 0, num / den_v, ibis.null("float64"))
        parts.append(
            w.select(
                "level",
                "subject",
                "medins_code",
                peer_group=w.peer,
                period_type=w.period_type,
                period=w.period,
                indicator=ibis.literal(name),
                value=value,
                numerator=num,
                denominator=den_v,
                cases=w.n.cast("int64"),
            )
        )
    return ibis.union(*parts, distinct=False)
