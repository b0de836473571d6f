"""Upcoding (高套分组): codes that lift a case into a heavier group than its care supports."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from huiyan.audit.rules.drg.evidence import (
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
    Flags: cases whose principal procedure has evidence rows but no matching net line, unless
    the stay is an early discharge (``early_discharge``: that is UNDERSVC-001); amount = the
    case's payment on the group the procedure lifted it into (its standard payment; the
    group it would reach without the procedure needs a regrouping, not done in the audit).
    """
    j = unperformed_procedure_cases(t)
    j = j.filter(~early_discharge(t, j))
    text = "主手术" + j.oprn_oprt_code + "无手术/麻醉收费, 入组" + j.drg
    return j.select("setl_id", unit=j.oprn_oprt_code, amount=j.std.fill_null(0.0), text=text)
