"""Upcoding (高套分组): codes that lift a case into a heavier group than its care supports."""

from __future__ import annotations

from typing import TYPE_CHECKING

from huiyan.audit.helpers import mean_yuan, yuan_zero
from huiyan.audit.rules.drg.evidence import (
    basis_text,
    case_norms,
    decisive_unsupported_cc,
    early_discharge,
    standard_in,
    unperformed_procedure_cases,
)
from huiyan.audit.spec import CASE_STAGES, SEVERITY_SUSPICIOUS, Params, preset
from huiyan.model.domain import principal_diagnoses, secondary_diagnoses

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.audit.inputs import RuleInputs

UPCODE_EVID = "《医疗保障基金使用监督管理条例》第三十八条; DRG付费: 编码应有诊疗证据, 不得高套分组"

# Upcoding: suspicious, whole-stay rules, the payment difference.
upcode_rule = preset(
    vola_bhvr_type="UPCODE",
    sev_deg=SEVERITY_SUSPICIOUS,
    stages=CASE_STAGES,
    amount="payment_diff",
    vola_evid=UPCODE_EVID,
    template="{hits}",
)


@upcode_rule(id="UPCODE-001", name="无治疗证据的严重并发症/合并症进入高权重组")
def unsupported_mcc_cc(t: RuleInputs, p: Params) -> ir.Table:
    """An MCC/CC secondary diagnosis without treatment evidence that lifts the case's DRG.

    Policy: docs/domain-reference.md §4.6 1a; ``dx_evidence`` names the fee lines that show a diagnosis
    was treated; the scheme's MCC/CC lists and exclusions decide whether it counts, its DRG
    conditions whether the case's group depends on it.
    Flags: cases in a DRG selected by MCC (or by MCC/CC) whose effective MCC (MCC/CC) codes
    with evidence rows but no matching net line are the only ones of that kind; amount = the
    payment difference when the case is re-priced on the DRG it groups to without them (§4.6 1):
    its payment − that DRG's weight × rate × the case's coefficient, at least 0 (0 when that
    DRG is not priced).
    Does not flag: codes without evidence rows; MCC/CC excluded by the principal; unsupported
    codes the group does not depend on (another, treated MCC/CC remains: DXCODE-001).
    """
    import ibis

    d = decisive_unsupported_cc(t)
    c = case_norms(t).select(c_setl="setl_id", std="std", coef="coef")
    j = d.join(c, d.setl_id == c.c_setl)
    j = standard_in(t, j, j.lighter)
    diff = ibis.greatest((j.std - j.drg_std).fill_null(yuan_zero()), yuan_zero())
    kind = j.cc_kind.substitute({"mcc": "严重并发症/合并症", "cc": "并发症/合并症"})
    text = "其他诊断" + j.diag_code + "(" + kind + ")无治疗证据, 入组" + j.drg
    return j.select("setl_id", unit=j.diag_code, amount=diff, text=text).distinct()


@upcode_rule(id="UPCODE-002", name="主手术无收费证据仍按手术组付费")
def unperformed_procedure_paid(t: RuleInputs, p: Params) -> ir.Table:
    """A principal procedure coded without any of its surgery/anaesthesia/material charges.

    Policy: docs/domain-reference.md §4.6 1b (coded procedure with no surgery/anaesthesia/consumable
    charges: suspicious, strong); ``oprn_evidence`` names the fee lines of a procedure.
    Flags: cases whose principal procedure was coded but never charged
    (``unperformed_principal_procedure``: no matching ``oprn_evidence`` line, or no evidence
    rows and an operating-room procedure, and no surgery/anaesthesia fee line at all), unless
    the stay is an early discharge (``early_discharge``: that is UNDERSVC-001); amount = the
    payment difference when the case is re-priced on the group it reaches without that
    procedure (``drg_regroup``, §4.6 1): its payment − that DRG's weight × rate × the case's
    coefficient, at least 0; the case's whole payment when that group is not priced (no case
    of it in the region and no published weight), as the text then says.
    Does not flag (legitimate look-alikes): a stay with any line of the national surgery or
    anaesthesia fee categories / chapter 33 items, even when the bureau's procedure → item map
    does not list them (sparse knowledge); non-operating-room procedures without evidence
    rows (chemotherapy, catheters, endoscopy: not judged); early discharges (UNDERSVC-001).
    """
    import ibis

    j = unperformed_procedure_cases(t)
    j = j.filter(~early_discharge(t, j))
    r = t.regroup.select(r_setl="setl_id", r_code="removed_oprn_code", lighter="drg")
    j = j.left_join(r, (j.setl_id == r.r_setl) & (j.oprn_oprt_code == r.r_code))
    j = standard_in(t, j, j.lighter)
    std = j.std.fill_null(yuan_zero())
    priced = j.drg_std.notnull()
    amount = ibis.ifelse(priced, ibis.greatest(std - j.drg_std, yuan_zero()), std)
    without = ibis.ifelse(
        j.lighter.isnull(),
        "",
        ibis.ifelse(
            priced,
            ", 去除后入组" + j.lighter,
            ", 去除后入组" + j.lighter.fill_null("") + "(该组无支付标准, 按本例支付计)",
        ),
    )
    text = (
        "主手术" + j.oprn_oprt_code + "无手术/麻醉收费" + basis_text(j) + ", 入组" + j.drg + without
    )
    return j.select("setl_id", unit=j.oprn_oprt_code, amount=amount, text=text)


@upcode_rule(
    id="UPCODE-003",
    name="主诊断无诊疗证据而其他诊断有, 按主诊断入较高权重组",
    params={"min_peer_cases": int},
)
def unsupported_principal_dx(t: RuleInputs, p: Params) -> ir.Table:
    """A principal diagnosis the stay never treated, beside a treated lighter condition.

    Policy: docs/domain-reference.md §4.6 1 (principal diagnosis chosen to reach a heavier group: the
    principal is the condition that consumed the stay's resources, 主要诊断选择原则);
    ``dx_evidence`` names the fee lines that show a diagnosis was treated.
    Flags: grouped cases whose principal diagnosis has ``principal``/``any`` evidence rows none
    of which a net line matches, while a secondary diagnosis has evidence that does match, and
    the case is paid more than the region's cases whose principal diagnosis is in that
    secondary's ICD-10 category (at least ``min_peer_cases`` of them; their average standard
    payment) and pays cases of the claimed principal's category more than those (the heavier
    group); amount = the case's standard payment − the treated category's average, at least 0.
    Does not flag (legitimate look-alikes): principal codes without evidence rows (not
    judged); a treated secondary condition whose own cases are paid as much or more than the
    principal's (no heavier group gained); stays where nothing was proven at all (DXCODE/other rules).
    """
    import ibis

    from huiyan.audit.helpers import longest_prefix_match
    from huiyan.audit.rules.drg.evidence import matching_lines

    d = t.diag
    pdx = principal_diagnoses(d).select("setl_id", "diag_code").distinct()
    ev = t.kb["dx_evidence"]
    judged = longest_prefix_match(
        pdx, "diag_code", ev.filter(ev.role.isin(("principal", "any"))), "diag_prefix"
    )
    proved = matching_lines(t, judged, "diag_code")
    unproven = (
        judged.select("setl_id", "diag_code").distinct().anti_join(proved, ["setl_id", "diag_code"])
    )
    sec = secondary_diagnoses(d).select("setl_id", "diag_code").distinct()
    sec_judged = longest_prefix_match(
        sec, "diag_code", ev.filter(ev.role.isin(("secondary", "any"))), "diag_prefix"
    )
    treated = matching_lines(t, sec_judged, "diag_code")
    treated = treated.select(
        s_setl="setl_id", s_code="diag_code", s_cat=treated.diag_code.substr(0, 3)
    )
    # What the region pays for cases whose principal is in the treated condition's category.
    c = case_norms(t)
    peer = c.join(pdx.select(q_setl="setl_id", q_code="diag_code"), c.setl_id == pdx.setl_id)
    peer = peer.filter(peer.std.notnull())
    peer = peer.group_by(p_cat=peer.q_code.substr(0, 3)).aggregate(
        p_sum=peer.std.sum(), p_n=peer.setl_id.count()
    )
    peer = peer.mutate(p_std=mean_yuan(peer.p_sum, peer.p_n)).drop("p_sum")
    peer = peer.filter(peer.p_n >= int(p["min_peer_cases"]))
    j = unproven.join(treated, unproven.setl_id == treated.s_setl)
    j = j.join(peer, j.s_cat == peer.p_cat)
    claimed = peer.select(k_cat="p_cat", k_std="p_std")
    j = j.join(claimed, j.diag_code.substr(0, 3) == claimed.k_cat)
    cs = c.select(c_setl="setl_id", drg="drg", std="std")
    j = j.join(cs, j.setl_id == cs.c_setl)
    # Heavier: the region pays cases of the claimed principal's category more than those of the
    # treated condition's (categories, not DRGs: a DRG filled by upcoded cases is priced by them).
    j = j.filter(j.k_std > j.p_std)
    j = j.mutate(diff=ibis.greatest(j.std.fill_null(yuan_zero()) - j.p_std, yuan_zero()))
    # One finding per case: the treated condition whose cases are paid least.
    w = ibis.window(group_by=j.setl_id, order_by=[j.p_std, j.s_code])
    j = j.mutate(rank=ibis.row_number().over(w))
    j = j.filter(j.rank == 0)
    text = (
        "主诊断"
        + j.diag_code
        + "无诊疗证据, 其他诊断"
        + j.s_code
        + "有诊疗证据; 入组"
        + j.drg
        + ", 本地区以"
        + j.diag_code.substr(0, 3)
        + "为主诊断的病例平均支付高于以"
        + j.s_cat
        + "为主诊断的病例"
    )
    return j.select("setl_id", unit=j.diag_code, amount=j.diff, text=text)
