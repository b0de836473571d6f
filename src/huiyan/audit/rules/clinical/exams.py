"""Over-examination: repeats inside the shortest interval or period, exams beyond indication."""

from __future__ import annotations

from typing import TYPE_CHECKING

from huiyan.audit.helpers import diag_matches, item_label, line_hits, restriction
from huiyan.audit.spec import ITEM_STAGES, SEVERITY_SUSPICIOUS, Params, preset

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.audit.inputs import RuleInputs

EXAM_EVID = "《医疗保障基金使用监督管理条例》第三十八条(过度检查); 检查项目最短间隔与适应证"

# Over-examination: suspicious (a reason may exist), the excess lines' amount.
exam_rule = preset(
    vola_bhvr_type="OVEREXAM",
    sev_deg=SEVERITY_SUSPICIOUS,
    stages=ITEM_STAGES,
    amount="line",
    template="{hits}",
)


@exam_rule(id="OVEREXAM-001", name="同一检查在最短间隔内重复", vola_evid=EXAM_EVID)
def repeat_within_interval(t: RuleInputs, p: Params) -> ir.Table:
    """The same examination repeated before its shortest interval has passed.

    Policy: ``hilist.min_interval_days`` (e.g. CT of one site not again within 7 days).
    Flags: each net line of the exam billed fewer than ``min_interval_days`` calendar days after
    the previous line of the same exam in the stay; amount = the repeat lines.
    """
    import ibis

    h = t.hilist.filter(t.hilist.min_interval_days.notnull() & (t.hilist.min_interval_days > 0))
    h = h.select(h_code="hilist_code", interval="min_interval_days")
    j = t.lines.join(h, t.lines.code == h.h_code)
    w = ibis.window(
        group_by=[j.setl_id, j.code], order_by=[j.fee_sec, j.feedetl_sn.length(), j.feedetl_sn]
    )
    j = j.mutate(prev_day=j.fee_day.lag().over(w))
    hit = j.filter(j.prev_day.notnull() & (j.fee_day - j.prev_day < j.interval))
    text = (
        item_label(hit)
        + " "
        + hit.fee_ocur_time.date().cast("string")
        + " 在最短间隔"
        + hit.interval.cast("string")
        + "天内重复"
    )
    return line_hits(hit, hit.amt, text)


@exam_rule(id="OVEREXAM-002", name="无适应证超量开具同组检查", vola_evid=EXAM_EVID)
def beyond_indication(t: RuleInputs, p: Params) -> ir.Table:
    """More than ``max_without`` exams of one ``exam_indication`` group on a day without indication.

    Policy: group exams (e.g. tumour markers) need a qualifying diagnosis beyond a small number.
    Flags: the lines of the group's items ranked after the first ``max_without`` (by code) on
    that day, when no diagnosis of the case starts with a qualifying prefix; amount = those lines.
    """
    import ibis

    x = t.kb["exam_indication"]
    pref = t.kb["exam_dx_prefix"].distinct()
    groups = t.lines.join(x, t.lines.code == x.hilist_code)
    used = groups.select("setl_id", "group_id").distinct()
    wanted = used.join(pref, used.group_id == pref.p_code).select("setl_id", "group_id", "p_prefix")
    ok = diag_matches(t, wanted, "p_prefix").select("setl_id", "group_id").distinct()
    g = groups.anti_join(ok, ["setl_id", "group_id"])
    codes = g.group_by(["setl_id", "group_id", "fee_day", "code"]).aggregate(
        lim=g.max_without.min()
    )
    w = ibis.window(group_by=["setl_id", "group_id", "fee_day"], order_by=["code"])
    ranked = codes.mutate(rank=ibis.row_number().over(w))
    excess = ranked.filter(ranked.rank >= ranked.lim).select(
        e_setl="setl_id", e_day="fee_day", e_code="code", e_group="group_id"
    )
    hit = g.join(
        excess,
        (g.setl_id == excess.e_setl) & (g.fee_day == excess.e_day) & (g.code == excess.e_code),
    )
    text = item_label(hit) + " 同日超出" + hit.group_id + "组无适应证限量"
    return line_hits(hit, hit.amt, text).distinct()


@exam_rule(
    id="OVEREXAM-003",
    name="检验项目超过周期限定频次",
    vola_evid="国家医保局两库知识点第八批(项目周期限定频次, 如糖化血红蛋白15天1次)",
)
def period_frequency(t: RuleInputs, p: Params) -> ir.Table:
    """An item billed more often within its period than allowed (NHSA batch 8-4).

    Policy: per-period limits, e.g. HbA1c once per 15 days, fructosamine once per 7 days.
    Flags: each net line preceded, within ``period_days`` days before it, by at least
    ``max_cnt`` quantity of the same item in the stay; amount = those lines.
    """
    r = restriction(t, "period_frequency")
    r = r.group_by(r_code=r.hilist_code).aggregate(
        period=r.period_days.min(), most=r.max_cnt.cast("float64").min()
    )
    a = t.lines.join(r, t.lines.code == r.r_code)
    # Earlier lines of restricted items only (keeps the self-join's build side small).
    b = t.lines.semi_join(r, t.lines.code == r.r_code)
    b = b.select(
        b_setl="setl_id",
        b_code="code",
        b_sec="fee_sec",
        b_sn="feedetl_sn",
        b_day="fee_day",
        b_cnt="cnt",
    )
    j = a.join(
        b,
        (a.setl_id == b.b_setl)
        & (a.code == b.b_code)
        & (b.b_day > a.fee_day - a.period)
        & ((b.b_sec < a.fee_sec) | ((b.b_sec == a.fee_sec) & (b.b_sn < a.feedetl_sn))),
    )
    g = j.group_by(["setl_id", "feedetl_sn"]).aggregate(
        before=j.b_cnt.sum(),
        most=j.most.min(),
        amt=j.amt.max(),
        label=item_label(j).max(),
        period=j.period.min(),
    )
    hit = g.filter(g.before >= g.most)
    text = hit.label + " " + hit.period.cast("string") + "天内超过限定次数"
    return hit.select("setl_id", unit=hit.feedetl_sn, amount=hit.amt, text=text)
