"""Quantities over a stay: bed and nursing days above LOS, courses longer than allowed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from huiyan.audit.helpers import item_label, line_hits, num, of_list_type, restriction, with_case
from huiyan.audit.spec import ITEM_STAGES, SEVERITY_VIOLATION, Params, preset

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.audit.inputs import RuleInputs

LOS_EVID = "住院天数=出院日期−入院日期(最少1天), 床位费/护理费天数不得超过住院天数"
COURSE_EVID = "国家医保局两库知识点第六批(药品限支付疗程)、第八批(项目限疗程); 医保目录最长疗程"

# Days above LOS: violations, known once the stay has days, excess days × price.
los_rule = preset(
    vola_bhvr_type="OVERQTY",
    sev_deg=SEVERITY_VIOLATION,
    stages=("in", "post"),
    amount="excess_qty",
    vola_evid=LOS_EVID,
    template="{hits}",
)

# Course limits (drugs OVERDOSE, items OVERTREAT): violations, the lines after the course.
course_rule = preset(
    sev_deg=SEVERITY_VIOLATION,
    stages=ITEM_STAGES,
    amount="line",
    vola_evid=COURSE_EVID,
    template="{hits}",
)


def _days_above_los(t: RuleInputs, lines: ir.Table, allowance: int, what: str) -> ir.Table:
    # A day counts the largest quantity of any one item billed on it: two bed types (or two
    # nursing grades) on one day are one day billed twice, which EXCLUSIVE-001 reports (one
    # violation, one class); a bed item and its surcharge billed together are one day.
    per = lines.group_by(["setl_id", "fee_day", "code"]).aggregate(q=lines.cnt.sum())
    day = per.group_by(["setl_id", "fee_day"]).aggregate(q=per.q.max())
    g = day.group_by(d_setl="setl_id").aggregate(days=day.q.sum())
    u = lines.group_by("setl_id").aggregate(
        price=lines.pric.max(), units=lines.feedetl_sn.group_concat("|")
    )
    u = with_case(u, t.case, "los")
    j = u.join(g, u.setl_id == g.d_setl)
    hit = j.filter(j.days > j.c_los + allowance + 1e-9)
    text = what + num(hit.days) + "天, 住院天数" + hit.c_los.cast("string") + "天"
    return hit.select(
        "setl_id",
        unit=hit.units,
        amount=(hit.days - hit.c_los - allowance) * hit.price,
        text=text,
    )


@los_rule(
    id="OVERQTY-003",
    name="床位费天数超过住院天数",
    params={"bed_chrgitm_types": list, "hour_unit": str, "allowance_days": int},
)
def bed_days(t: RuleInputs, p: Params) -> ir.Table:
    """More bed days billed than the length of stay allows.

    Policy: allowed bed days = LOS (date difference, minimum 1) plus ``allowance_days``
    (domain-reference §4.5; some regions allow LOS + 1).
    Flags: cases whose bed days (``med_chrgitm_type`` in ``bed_chrgitm_types``; per calendar
    day the largest net quantity of one bed item) exceed the allowed days; amount = excess
    days × bed price. A bed fee is charged by the day: a bed
    item counts in days whatever its catalog unit (often blank), except hourly ones
    (``hour_unit``, e.g. observation beds; OVERQTY-002).
    Does not flag: two bed types on one day (a ward change, or EXCLUSIVE-001 when they exclude
    each other); a bed surcharge billed beside the bed.
    """
    bed = t.lines.chrgitm_type.isin(tuple(p["bed_chrgitm_types"]))
    lines = t.lines.filter(bed & (t.lines.unit.fill_null("") != p["hour_unit"]))
    return _days_above_los(t, lines, int(p["allowance_days"]), "床位费计")


@los_rule(
    id="OVERQTY-004",
    name="护理天数超过住院天数",
    params={"nursing_codes": list, "allowance_days": int},
)
def nursing_days(t: RuleInputs, p: Params) -> ir.Table:
    """More nursing-grade days billed than the length of stay.

    Policy: one nursing grade per day; nursing days ≤ LOS + ``allowance_days`` (§4.5).
    Flags: cases whose nursing days (``nursing_codes``; per calendar day the largest net
    quantity of one grade) exceed the allowed days; amount = excess days × nursing price.
    Does not flag: two grades on one day (EXCLUSIVE-001: one violation, one class).
    """
    lines = t.lines.filter(t.lines.code.isin(tuple(p["nursing_codes"])))
    return _days_above_los(t, lines, int(p["allowance_days"]), "护理计")


def _course(t: RuleInputs, drugs: bool) -> ir.Table:
    import ibis

    r = restriction(t, "course")
    r = r.group_by(r_code=r.hilist_code).aggregate(r_days=r.max_days.min())
    lines = of_list_type(t.lines, drugs)
    j = lines.join(r, lines.code == r.r_code)
    w = ibis.window(group_by=[j.setl_id, j.code], order_by=[j.fee_day])
    ranked = j.mutate(day_no=ibis.dense_rank().over(w) + 1)
    hit = ranked.filter(ranked.day_no > ranked.r_days)
    text = item_label(hit) + " 超过限定疗程" + hit.r_days.cast("string") + "天后仍收费"
    return line_hits(hit, hit.amt, text)


@course_rule(id="OVERDOSE-002", name="药品超过限定支付疗程", vola_bhvr_type="OVERDOSE")
def drug_course(t: RuleInputs, p: Params) -> ir.Table:
    """A drug billed on more calendar days of one stay than its payment course allows.

    Policy: NHSA batch 6 payment-course limits (e.g. 14 days) and ``hilist.max_days``.
    Flags: the net lines of the days after the first ``max_days`` billing days (their amount).
    """
    return _course(t, drugs=True)


@course_rule(
    id="OVERTREAT-002",
    name="诊疗项目超过限定疗程",
    vola_bhvr_type="OVERTREAT",
    aliases=("OVERQTY-005",),
)
def item_course(t: RuleInputs, p: Params) -> ir.Table:
    """A service item billed on more days of one stay than its course limit (batch 8-3).

    Policy: NHSA batch 8-3 item course limits and ``hilist.max_days`` for items; a treatment
    continued beyond its course is over-treatment (design.md §5 OVERTREAT: "treatments beyond
    duration"), not a quantity above a daily limit.
    Flags: the net lines after the first ``max_days`` billing days (their amount).
    Does not flag: days without the item (the course counts billing days, so an interrupted
    course resumed later is counted once per day billed); refunded days (netted).
    """
    return _course(t, drugs=False)
