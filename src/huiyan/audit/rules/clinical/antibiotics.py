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
    params={"atc_prefixes": list, "infection_dx_prefixes": list, "preop_therapy_hours": int},
)
def prophylaxis_too_long(t: RuleInputs, p: Params) -> ir.Table:
    """Antibiotics billed beyond the prophylaxis limit after clean (class I) surgery only.

    Policy: 抗菌药物临床应用指导原则(2015年版): prophylaxis in clean (Ⅰ类) incisions ends within
    ``prophylaxis_hours`` (24 h, 48 h for cardiac surgery) of the operation; clean-contaminated,
    contaminated and dirty incisions (Ⅱ–Ⅳ类) and infections are treated, not prevented.
    Flags: net lines of drugs whose ATC starts with ``atc_prefixes`` (read from the national
    drug code, ``X`` + ATC) billed more than the limit after the end of the case's last
    procedure, when every procedure of the case found in ``procedure_incision`` (longest
    prefix) is class Ⅰ; amount = those lines.
    Does not flag (legitimate look-alikes): a case with any Ⅱ–Ⅳ class procedure (therapeutic
    course after contaminated surgery); an infection diagnosis (``infection_dx_prefixes``); a
    course already running ``preop_therapy_hours`` before the first procedure (treatment of a
    condition, not prophylaxis); procedures without an end time or an incision class.
    """
    import ibis

    from huiyan.audit.helpers import longest_prefix_match

    o = t.oprn.select(
        "setl_id",
        "oprn_oprt_code",
        begin=t.oprn.oprn_oprt_begntime.epoch_seconds(),
        end=t.oprn.oprn_oprt_endtime.epoch_seconds(),
    )
    inc = t.kb["procedure_incision"]
    matched = longest_prefix_match(o, "oprn_oprt_code", inc, "oprn_prefix")
    contaminated = matched.filter(matched.incision_class != "I").select(x_setl="setl_id").distinct()
    clean = matched.filter((matched.incision_class == "I") & matched.end.notnull())
    clean = clean.group_by(k_setl="setl_id").aggregate(hours=clean.prophylaxis_hours.max())
    clean = clean.anti_join(contaminated, clean.k_setl == contaminated.x_setl)
    # The clock runs from the end of the last operation of the stay, whatever its class.
    times = o.group_by(o_setl="setl_id").aggregate(end=o.end.max(), begin=o.begin.min())
    ops = clean.join(times, clean.k_setl == times.o_setl)
    d = t.diag
    infected = (
        d.filter(ibis.or_(*[d.diag_code.startswith(x) for x in p["infection_dx_prefixes"]]))
        .select(i_setl="setl_id")
        .distinct()
    )
    atc = ibis.or_(*[t.lines.code.startswith("X" + a) for a in p["atc_prefixes"]])
    abx = t.lines.filter(atc)
    j = abx.join(ops, abx.setl_id == ops.o_setl)
    preop = j.filter(
        j.begin.notnull() & (j.fee_sec < j.begin - int(p["preop_therapy_hours"]) * 3600)
    )
    preop = preop.select(q_setl="setl_id").distinct()
    late = j.filter(j.fee_sec > j.end + j.hours * 3600)
    hit = late.anti_join(infected, late.setl_id == infected.i_setl)
    hit = hit.anti_join(preop, hit.setl_id == preop.q_setl)
    text = (
        item_label(hit)
        + " 于"
        + hit.fee_ocur_time.cast("string")
        + "(Ⅰ类切口术后超过"
        + hit.hours.cast("string")
        + "小时)"
    )
    return line_hits(hit, hit.amt, text)
