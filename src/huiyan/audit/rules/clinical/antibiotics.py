"""Over-treatment: prophylactic antibiotics continued too long after clean (class I) surgery."""

from __future__ import annotations

from typing import TYPE_CHECKING

from huiyan.audit.helpers import item_label, line_hits
from huiyan.audit.spec import SEVERITY_SUSPICIOUS, Params, rule

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.audit.inputs import RuleInputs


@rule(
    id="OVERTREAT-001",
    name="Ⅰ类切口手术预防用抗菌药物超时",
    vola_bhvr_type="OVERTREAT",
    sev_deg=SEVERITY_SUSPICIOUS,
    stages=("in", "post"),
    amount="line",
    vola_evid="《抗菌药物临床应用指导原则(2015年版)》: Ⅰ类切口手术预防用药一般不超过24小时",
    template="{hits}",
)
def prophylaxis_too_long(t: RuleInputs, p: Params) -> ir.Table:
    """Systemic antibiotics billed beyond the prophylaxis limit after a class-I incision procedure.

    Policy: ``procedure_incision`` (class I: prophylaxis ≤ ``prophylaxis_hours``, usually 24 h).
    Flags: net lines of drugs whose ATC starts with ``atc_prefixes`` (read from the national drug
    code, ``X`` + ATC) billed more than the limit after the end of the case's last class-I
    procedure; amount = those lines.
    Does not flag: cases with an infection diagnosis (``infection_dx_prefixes``); procedures
    without an end time.
    """
    import ibis

    from huiyan.audit.helpers import longest_prefix_match

    inc = t.kb["procedure_incision"]
    inc = inc.filter(inc.incision_class == "I")
    o = t.oprn.select(
        "setl_id", "oprn_oprt_code", end=t.oprn.oprn_oprt_endtime.epoch_seconds()
    ).filter(lambda x: x.end.notnull())
    matched = longest_prefix_match(o, "oprn_oprt_code", inc, "oprn_prefix")
    ops = matched.group_by(o_setl="setl_id").aggregate(
        end=matched.end.max(), hours=matched.prophylaxis_hours.min()
    )
    d = t.diag
    infected = (
        d.filter(ibis.or_(*[d.diag_code.startswith(x) for x in p["infection_dx_prefixes"]]))
        .select(i_setl="setl_id")
        .distinct()
    )
    atc = ibis.or_(*[t.lines.code.startswith("X" + a) for a in p["atc_prefixes"]])
    abx = t.lines.filter(atc)
    j = abx.join(ops, abx.setl_id == ops.o_setl)
    late = j.filter(j.fee_sec > j.end + j.hours * 3600)
    hit = late.anti_join(infected, late.setl_id == infected.i_setl)
    text = (
        item_label(hit)
        + " 于"
        + hit.fee_ocur_time.cast("string")
        + "(术后超过"
        + hit.hours.cast("string")
        + "小时)"
    )
    return line_hits(hit, hit.amt, text)
