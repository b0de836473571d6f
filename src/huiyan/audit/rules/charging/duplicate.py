"""Duplicate charging: an item already included in another, an identical line billed twice."""

from __future__ import annotations

from typing import TYPE_CHECKING

from huiyan.audit.helpers import item_label, line_hits, restriction
from huiyan.audit.spec import ITEM_STAGES, SEVERITY_VIOLATION, Params, preset

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.audit.inputs import RuleInputs

DUP_EVID = (
    "《医疗保障基金使用监督管理条例》第三十八条(重复收费); 国家医保局两库知识点第七批(重复收费)"
)

# Duplicate charging: violations at every stage, the duplicate lines' amount.
dup_rule = preset(
    vola_bhvr_type="DUPCHG",
    sev_deg=SEVERITY_VIOLATION,
    stages=ITEM_STAGES,
    amount="line",
    vola_evid=DUP_EVID,
    template="{hits}",
)


@dup_rule(id="DUPCHG-001", name="主项已包含的从项另行收费")
def included_item(t: RuleInputs, p: Params) -> ir.Table:
    """A sub item billed in the same window as the main item that already includes it.

    Policy: NHSA batch 7 duplicate-charge pairs (window 同一小时 / 6小时 / 单日 / 单次住院).
    Flags: each net line of the sub item within the pair's window of a main-item line;
    amount = the sub item's line (the included item).
    """
    pairs = t.kb["dup_charge_pair"].select("main_code", "sub_code", "window").distinct()
    # Only lines of main items can include a sub item (keeps the join's build side small).
    mains = pairs.select(p_main="main_code").distinct()
    m = t.lines.semi_join(mains, t.lines.code == mains.p_main)
    m = m.select(
        m_setl="setl_id", m_code="code", m_day="fee_day", m_sec="fee_sec", m_name="item_name"
    )
    s = t.lines.join(pairs, t.lines.code == pairs.sub_code)
    j = s.join(m, (s.setl_id == m.m_setl) & (s.main_code == m.m_code))
    gap = (j.fee_sec - j.m_sec).abs()
    inside = j.window.cases(
        ("hour", gap < 3600),
        ("6h", gap <= 6 * 3600),
        ("day", j.fee_day == j.m_day),
        ("stay", True),
        else_=False,
    )
    hit = j.filter(inside)
    text = "已收" + hit.m_name.fill_null(hit.main_code) + "仍另收" + item_label(hit)
    return line_hits(hit, hit.amt, text).distinct()


@dup_rule(id="DUPCHG-002", name="同一项目同一时间重复收费")
def identical_line(t: RuleInputs, p: Params) -> ir.Table:
    """The same item billed twice at the same moment with the same price.

    Policy: one service, one charge (条例 Art. 38 重复收费).
    Flags: every repeat after the first of net lines with equal item, ``fee_ocur_time`` and
    price, for items without a per-day limit (those are OVERQTY/OVERDOSE); amount = the repeats.
    Does not flag: refunded-and-recharged items (netted first).
    """
    import ibis

    limited = restriction(t, "frequency").select(l_code="hilist_code").distinct()
    lines = t.lines.anti_join(limited, t.lines.code == limited.l_code)
    w = ibis.window(
        group_by=[lines.setl_id, lines.code, lines.fee_sec, lines.pric],
        order_by=[lines.feedetl_sn.length(), lines.feedetl_sn],
    )
    ranked = lines.mutate(n=ibis.row_number().over(w))
    hit = ranked.filter(ranked.n > 0)
    text = item_label(hit) + " " + hit.fee_ocur_time.cast("string") + " 重复收费"
    return line_hits(hit, hit.amt, text)
