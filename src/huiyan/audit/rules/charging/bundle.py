"""Unbundled charging and mutually exclusive items (knowledge tables item_bundle, item_exclusive)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from huiyan.audit.helpers import item_label, line_hits, with_case, yuan
from huiyan.audit.spec import ITEM_STAGES, SEVERITY_VIOLATION, Params, rule

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.audit.inputs import RuleInputs

UNBUNDLE_EVID = (
    "《医疗保障基金使用监督管理条例》第三十八条(分解项目收费); 医疗服务价格项目规范(组合项目)"
)
EXCLUSIVE_EVID = "医疗服务价格项目规范: 同一时间窗内互斥项目只能收取其一(如护理等级、床位类别)"


def _window_key(t: ir.Table) -> ir.IntegerValue:
    # day windows group by calendar day; stay windows by a constant.
    return (t.window == "day").ifelse(t.fee_day, -1)


@rule(
    id="UNBUNDLE-001",
    name="组合项目拆分为单项收费",
    vola_bhvr_type="UNBUNDLE",
    sev_deg=SEVERITY_VIOLATION,
    stages=ITEM_STAGES,
    amount="price_diff",
    vola_evid=UNBUNDLE_EVID,
    template="{hits}",
)
def unbundled(t: RuleInputs, p: Params) -> ir.Table:
    """At least ``min_components`` components of a bundle billed in one window without the bundle.

    Policy: a packaged item is charged as the package (``item_bundle``), not its parts.
    Flags: the component lines of each (case, bundle, window); amount = what the fund paid
    above the bundle: components' sum − the bundle's price at the hospital's level, at least 0
    (parts cheaper than the bundle cost the fund nothing) and at most the components' sum.
    Does not flag: windows in which the bundle code itself is billed.
    """
    import ibis

    b = t.kb["item_bundle"]
    lines = with_case(t.lines, t.case, "medins_lv")
    j = lines.join(b, lines.code == b.component_code)
    j = j.mutate(wkey=_window_key(j))
    g = j.group_by(["setl_id", "bundle_code", "wkey"]).aggregate(
        n=j.code.nunique(),
        need=j.min_components.min(),
        total=j.amt.sum(),
        units=j.feedetl_sn.group_concat("|"),
        lv=j.c_medins_lv.max(),
        win=j.window.max(),
        names=j.item_name.max(),
    )
    g = g.filter(g.n >= g.need)
    # Only lines of bundle codes can be the bundle itself (keeps the join's build side small).
    codes = b.select(b_code="bundle_code").distinct()
    own = t.lines.semi_join(codes, t.lines.code == codes.b_code)
    own = own.select(o_setl="setl_id", o_code="code", o_day="fee_day")
    has_bundle = (
        g.join(
            own,
            (g.setl_id == own.o_setl)
            & (g.bundle_code == own.o_code)
            & ((g.win != "day") | (own.o_day == g.wkey)),
        )
        .select("setl_id", "bundle_code", "wkey")
        .distinct()
    )
    g = g.anti_join(has_bundle, ["setl_id", "bundle_code", "wkey"])
    h = t.hilist.select(
        h_code="hilist_code", h_name="hilist_name", p1="pric_lv1", p2="pric_lv2", p3="pric_lv3"
    )
    g = g.left_join(h, g.bundle_code == h.h_code)
    price = g.lv.cases(("1", g.p1), ("2", g.p2), ("3", g.p3)).fill_null(0)
    text = (
        g.h_name.fill_null(g.bundle_code)
        + "("
        + g.bundle_code
        + ")拆分为"
        + g.n.cast("string")
        + "个单项收费"
    )
    total = yuan(g.total)
    amount = ibis.least(ibis.greatest(total - yuan(price), 0), total)
    return g.select("setl_id", unit=g.units, amount=amount, text=text)


@rule(
    id="EXCLUSIVE-001",
    name="互斥项目同一时间窗内同时收费",
    vola_bhvr_type="EXCLUSIVE",
    sev_deg=SEVERITY_VIOLATION,
    stages=ITEM_STAGES,
    amount="line",
    vola_evid=EXCLUSIVE_EVID,
    template="{hits}",
)
def exclusive_items(t: RuleInputs, p: Params) -> ir.Table:
    """Two items of one ``item_exclusive`` group billed in one window (day or stay).

    Policy: at most one item of the group per window (e.g. one nursing grade a day).
    Flags: the lines of every item of the group in that window other than the one billed on
    most days of the stay (then earliest, then by code); amount = those lines.
    """
    import ibis

    x = t.kb["item_exclusive"].select("group_id", x_code="hilist_code", window="window")
    j = t.lines.join(x, t.lines.code == x.x_code)
    j = j.mutate(wkey=_window_key(j))
    # The item billed on most days of the stay is the one in use; the others are the extra.
    # Days of the group's items only (j repeats a line per group: distinct days are the same).
    days = j.group_by(d_setl="setl_id", d_code="code").aggregate(days=j.fee_day.nunique())
    per = j.group_by(["setl_id", "group_id", "wkey", "code"]).aggregate(first_sec=j.fee_sec.min())
    per = per.join(days, (per.setl_id == days.d_setl) & (per.code == days.d_code))
    w = ibis.window(
        group_by=[per.setl_id, per.group_id, per.wkey],
        order_by=[ibis.desc(per.days), per.first_sec, per.code],
    )
    ranked = per.mutate(rank=ibis.row_number().over(w))
    second = ranked.filter(ranked.rank > 0).select(
        s_setl="setl_id", s_group="group_id", s_wkey="wkey", s_code="code"
    )
    hit = j.join(
        second,
        (j.setl_id == second.s_setl)
        & (j.group_id == second.s_group)
        & (j.wkey == second.s_wkey)
        & (j.code == second.s_code),
    )
    text = (
        item_label(hit)
        + " 与同组("
        + hit.group_id
        + ")项目互斥, "
        + hit.fee_ocur_time.date().cast("string")
    )
    return line_hits(hit, hit.amt, text)
