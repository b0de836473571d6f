"""Prices above the catalog's limit for the hospital level, amounts above price × quantity."""

from __future__ import annotations

from typing import TYPE_CHECKING

from huiyan.audit.helpers import item_label, line_hits, num, with_case
from huiyan.audit.spec import ITEM_STAGES, SEVERITY_VIOLATION, Params, preset

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.audit.inputs import RuleInputs

PRICE_EVID = (
    "《医疗保障基金使用监督管理条例》第三十八条(超标准收费); 医疗服务价格项目规范及医保目录分级限价"
)

# Over-standard prices: violations at every stage, the price difference.
price_rule = preset(
    vola_bhvr_type="OVERPRICE",
    sev_deg=SEVERITY_VIOLATION,
    stages=ITEM_STAGES,
    amount="price_diff",
    vola_evid=PRICE_EVID,
    template="{hits}",
)


@price_rule(id="OVERPRICE-001", name="收费单价高于本级医院限价", params={"tolerance": float})
def above_level_price(t: RuleInputs, p: Params) -> ir.Table:
    """A unit price above the catalog's maximum price at the hospital's level.

    Policy: ``hilist.pric_lv1/2/3`` are the maximum unit prices per hospital level (条例 Art. 38).
    Flags: net lines with ``pric`` above the limit by more than ``tolerance``;
    amount = (price − limit) × net quantity.
    Does not flag: items not priced at the level (LEVEL-002).
    """
    h = t.hilist.select(
        h_code=t.hilist.hilist_code,
        p1=t.hilist.pric_lv1.cast("float64"),
        p2=t.hilist.pric_lv2.cast("float64"),
        p3=t.hilist.pric_lv3.cast("float64"),
    )
    lines = with_case(t.lines, t.case, "medins_lv")
    j = lines.join(h, lines.code == h.h_code)
    limit = j.c_medins_lv.cases(("1", j.p1), ("2", j.p2), ("3", j.p3))
    j = j.mutate(lim=limit)
    hit = j.filter(j.lim.notnull() & (j.pric > j.lim + float(p["tolerance"])))
    text = item_label(hit) + " 单价" + num(hit.pric) + "元, 本级限价" + num(hit.lim) + "元"
    return line_hits(hit, (hit.pric - hit.lim) * hit.cnt, text)


@price_rule(id="OVERPRICE-002", name="明细金额高于单价×数量", params={"tolerance": float})
def amount_above_price(t: RuleInputs, p: Params) -> ir.Table:
    """A line amount larger than its unit price times its quantity.

    Policy: 明细项目费用总额 = 单价 × 数量 (2301 fee-detail upload); anything above is overcharging.
    Flags: net lines whose amount exceeds price × quantity by more than ``tolerance`` yuan;
    amount = the difference.
    """
    diff = t.lines.amt - t.lines.pric * t.lines.cnt
    hit = t.lines.mutate(diff=diff.round(2))
    hit = hit.filter(hit.diff > float(p["tolerance"]))
    text = item_label(hit) + " 金额比单价×数量多" + num(hit.diff) + "元"
    return line_hits(hit, hit.diff, text)
