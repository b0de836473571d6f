"""Upcoding (高套分组): codes that lift a case into a heavier group than its care supports."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from huiyan.audit.rules.drg.evidence import (
    basis_text,
    case_norms,
    decisive_unsupported_cc,
    early_discharge,
    standard_in,
    unperformed_procedure_cases,
)
from huiyan.audit.spec import CASE_STAGES, SEVERITY_SUSPICIOUS, Params, rule

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.audit.inputs import RuleInputs

UPCODE_EVID = "《医疗保障基金使用监督管理条例》第三十八条; DRG付费: 编码应有诊疗证据, 不得高套分组"

# Upcoding: suspicious, whole-stay rules, the payment difference.
upcode_rule = partial(
    rule,
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

    Policy: domain-reference §4.6 1a; ``dx_evidence`` names the fee lines that show a diagnosis
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
    diff = ibis.greatest((j.std - j.drg_std).fill_null(0.0), 0.0)
    kind = j.cc_kind.substitute({"mcc": "严重并发症/合并症", "cc": "并发症/合并症"})
    text = "其他诊断" + j.diag_code + "(" + kind + ")无治疗证据, 入组" + j.drg
    return j.select("setl_id", unit=j.diag_code, amount=diff, text=text).distinct()


@upcode_rule(id="UPCODE-002", name="主手术无收费证据仍按手术组付费")
def unperformed_procedure_paid(t: RuleInputs, p: Params) -> ir.Table:
    """A principal procedure coded without any of its surgery/anaesthesia/material charges.

    Policy: domain-reference §4.6 1b (coded procedure with no surgery/anaesthesia/consumable
    charges: suspicious, strong); ``oprn_evidence`` names the fee lines of a procedure.
    Flags: cases whose principal procedure was coded but never charged
    (``unperformed_principal_procedure``: no matching ``oprn_evidence`` line, or no evidence
    rows and done under anaesthesia, and no surgery/anaesthesia fee line at all), unless
    the stay is an early discharge (``early_discharge``: that is UNDERSVC-001); amount = the
    payment difference when the case is re-priced on the group it reaches without that
    procedure (``drg_regroup``, §4.6 1): its payment − that DRG's weight × rate × the case's
    coefficient, at least 0; the case's whole payment when that group is not priced (no case
    of it in the region and no published weight), as the text then says.
    Does not flag (legitimate look-alikes): a stay with any line of the national surgery or
    anaesthesia fee categories / chapter 33 items, even when the bureau's procedure → item map
    does not list them (sparse knowledge); bedside or diagnostic procedures without
    anaesthesia and without evidence rows (not judged); early discharges (UNDERSVC-001).
    """
    import ibis

    j = unperformed_procedure_cases(t)
    j = j.filter(~early_discharge(t, j))
    r = t.regroup.select(r_setl="setl_id", r_code="removed_oprn_code", lighter="drg")
    j = j.left_join(r, (j.setl_id == r.r_setl) & (j.oprn_oprt_code == r.r_code))
    j = standard_in(t, j, j.lighter)
    std = j.std.fill_null(0.0)
    priced = j.drg_std.notnull()
    amount = ibis.ifelse(priced, ibis.greatest(std - j.drg_std, 0.0), std)
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
