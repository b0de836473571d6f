"""Quantities per calendar day above their limit: items and beds (OVERQTY), drugs (OVERDOSE)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from huiyan.audit.helpers import item_label, num, of_list_type, restriction
from huiyan.audit.spec import ITEM_STAGES, SEVERITY_VIOLATION, Params, preset

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.audit.inputs import RuleInputs

FREQ_EVID = "国家医保局两库知识点第八批(限定频次); 医保目录每日最大数量"
DOSE_EVID = "《医疗保障基金使用监督管理条例》第十五条; 医保目录/药品说明书每日最大用量"

# Per-day limits: violations at every stage, excess quantity × price.
daily_rule = preset(
    sev_deg=SEVERITY_VIOLATION, stages=ITEM_STAGES, amount="excess_qty", template="{hits}"
)


def _per_day(lines: ir.Table, limits: ir.Table) -> ir.Table:
    """Hit rows for (case, item, day) groups whose net quantity exceeds ``limits.l_max``."""
    j = lines.join(limits, lines.code == limits.l_code)
    g = j.group_by(["setl_id", "code", "fee_day"]).aggregate(
        total=j.cnt.sum(),
        lim=j.l_max.max(),
        price=j.pric.max(),
        units=j.feedetl_sn.group_concat("|"),
        label=item_label(j).max(),
        day=j.fee_ocur_time.date().cast("string").max(),
    )
    hit = g.filter(g.total > g.lim + 1e-9)
    text = hit.label + " " + hit.day + " 计" + num(hit.total) + ", 每日限" + num(hit.lim)
    return hit.select(
        "setl_id", unit=hit.units, amount=(hit.total - hit.lim) * hit.price, text=text
    )


def _frequency_limits(t: RuleInputs) -> ir.Table:
    r = restriction(t, "frequency")
    r = r.filter(r.per == "day")
    return r.group_by(l_code=r.hilist_code).aggregate(l_max=r.max_cnt.cast("float64").min())


@daily_rule(
    id="OVERQTY-001",
    name="诊疗项目单日数量超过限定频次",
    vola_bhvr_type="OVERQTY",
    vola_evid=FREQ_EVID,
)
def item_daily(t: RuleInputs, p: Params) -> ir.Table:
    """A service item, material or bed billed above its per-day limit on a calendar day.

    Policy: NHSA batch 8-1 frequency limits (1 per day; 24 hours per day for hourly items) and
    ``hilist.max_cnt_day``; per day = calendar day of ``fee_ocur_time``, refunds netted.
    Flags: each (case, item, day) whose net quantity exceeds the limit; amount = excess × price.
    Does not flag: drugs (OVERDOSE-001).
    """
    return _per_day(of_list_type(t.lines, drugs=False), _frequency_limits(t))


@daily_rule(
    id="OVERQTY-002",
    name="计时项目单日超过24小时",
    vola_bhvr_type="OVERQTY",
    vola_evid="国家医保局两库知识点第八批(按小时计价项目每日不超过24小时)",
    params={"hour_unit": str, "max_hours_per_day": float},
)
def hourly(t: RuleInputs, p: Params) -> ir.Table:
    """An hourly item (unit 小时) billed for more hours in a calendar day than the day has.

    Policy: batch 8-1; an hourly item counts hours, at most ``max_hours_per_day`` per day.
    Flags: each (case, item, day) above the limit for items without their own frequency limit
    (those are OVERQTY-001); amount = excess hours × price.
    """
    import ibis

    lines = of_list_type(t.lines, drugs=False)
    own = _frequency_limits(t)
    hourly_codes = t.hilist.filter(t.hilist.unit == p["hour_unit"]).select(l_code="hilist_code")
    limits = hourly_codes.anti_join(own, "l_code").mutate(
        l_max=ibis.literal(float(p["max_hours_per_day"]))
    )
    return _per_day(lines, limits)


@daily_rule(
    id="OVERDOSE-001", name="药品单日用量超过限定", vola_bhvr_type="OVERDOSE", vola_evid=DOSE_EVID
)
def drug_daily(t: RuleInputs, p: Params) -> ir.Table:
    """A drug billed above its largest quantity per calendar day.

    Policy: ``hilist.max_cnt_day`` for drugs (dose limits of the label), refunds netted.
    Flags: each (case, drug, day) above the limit; amount = excess quantity × price.
    Does not flag: discharge medication (``dscg_tkdrug_flag`` 1), which is dispensed at once.
    """
    lines = of_list_type(t.lines, drugs=True)
    lines = lines.filter(lines.dscg_tkdrug_flag.fill_null("0") != "1")
    return _per_day(lines, _frequency_limits(t))
