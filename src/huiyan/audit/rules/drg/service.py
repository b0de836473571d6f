"""Under-service (服务不足): surgical cases discharged early without the surgery being charged."""

from __future__ import annotations

from typing import TYPE_CHECKING

from huiyan.audit.helpers import below_share_of_mean, fraction, yuan_text, yuan_zero
from huiyan.audit.rules.drg.evidence import (
    basis_text,
    case_norms,
    early_discharge,
    standard_in,
    unperformed_procedure_cases,
)
from huiyan.audit.spec import CASE_STAGES, SEVERITY_SUSPICIOUS, Params, preset
from huiyan.model.domain import DSCG_ORDERED

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.audit.inputs import RuleInputs

UNDERSVC_EVID = "DRG付费: 不得减少必要医疗服务、提前出院或推诿病人(服务不足)"

# Under-service: suspicious, whole-stay rules, standard payment − actual cost.
undersvc_rule = preset(
    vola_bhvr_type="UNDERSVC",
    sev_deg=SEVERITY_SUSPICIOUS,
    stages=CASE_STAGES,
    amount="payment_diff",
    vola_evid=UNDERSVC_EVID,
    template="{hits}",
)


def _amount(t: RuleInputs, j: ir.Table) -> ir.Table:
    """``j`` with ``amount`` = the group's standard payment − the actual cost (at least 0).

    The standard is the DRG's weight × rate × the case's coefficient, not the case's own
    payment, which the low-multiple rule has already cut to the actual cost; the group's
    average cost when the DRG is not priced.
    """
    import ibis

    j = standard_in(t, j, j.drg)
    return j.mutate(amount=ibis.greatest(j.drg_std.fill_null(j.avg_cost) - j.medfee, yuan_zero()))


@undersvc_rule(
    id="UNDERSVC-001",
    name="编码手术未实施即提前出院",
    params={"max_cost_ratio": float, "max_los_ratio": float},
)
def surgery_not_done(t: RuleInputs, p: Params) -> ir.Table:
    """A surgical case discharged early and cheap with its principal procedure never charged.

    Policy: docs/domain-reference.md §4.6 4 (essential items missing, early discharge, cost far below
    the group norm).
    Flags: ordered discharges whose principal procedure was never charged
    (``unperformed_principal_procedure``, with its national fee-category fallback), with cost below ``max_cost_ratio`` and stay below ``max_los_ratio`` of
    the group's averages (``early_discharge``; the same procedure in any other stay is
    UPCODE-002); amount = the DRG's standard payment for the case − its actual cost.
    Does not flag: deaths, transfers and discharges against advice (``dscg_way`` ≠ 1); stays
    with any surgery/anaesthesia fee line (the operation was done).
    """
    j = unperformed_procedure_cases(t)
    j = _amount(t, j.filter(early_discharge(t, j)))
    text = (
        "主手术"
        + j.oprn_oprt_code
        + "无手术收费"
        + basis_text(j)
        + ", 住院"
        + j.los.cast("string")
        + "天(组均"
        + j.avg_los.round(1).cast("string")
        + "天)即出院, 费用"
        + yuan_text(j.medfee)
        + "元远低于"
        + j.drg
        + "组均费用"
    )
    return j.select("setl_id", unit=j.oprn_oprt_code, amount=j.amount, text=text)


@undersvc_rule(
    id="UNDERSVC-002",
    name="费用与住院日远低于病组标准的提前出院",
    params={
        "surgical_adrg_letters": list,
        "min_cases": int,
        "max_cost_ratio": float,
        "max_los_ratio": float,
    },
)
def far_below_norm(t: RuleInputs, p: Params) -> ir.Table:
    """A surgical-group case with cost and LOS far below its group's norms, ordered discharge.

    Policy: docs/domain-reference.md §4.6 4 (low-multiple case with early discharge); the group norm is
    the published ``drg_weight`` avg_cost/avg_los, else the data's group mean.
    Flags: ordered discharges in surgical DRGs (second character of the ADRG in
    ``surgical_adrg_letters``: A–J is the surgical range of CHS-DRG) with cost below
    ``max_cost_ratio`` and LOS below ``max_los_ratio`` of the group's averages, in groups of at
    least ``min_cases``; amount = the DRG's standard payment for the case − its actual cost.
    Does not flag: deaths, transfers, discharges against advice.
    """
    c = case_norms(t)
    surgical = c.adrg.substr(1, 1).isin(tuple(p["surgical_adrg_letters"]))
    j = c.filter(
        (c.dscg_way == DSCG_ORDERED)
        & surgical
        & (c.n_cases >= int(p["min_cases"]))
        & (c.medfee < fraction(c.avg_cost, p["max_cost_ratio"]))
        & below_share_of_mean(c.los, c.los_total, c.los_n, p["max_los_ratio"])
    )
    text = (
        j.drg
        + "组: 费用"
        + yuan_text(j.medfee)
        + "元, 住院"
        + j.los.cast("string")
        + "天, 远低于组均水平"
    )
    j = _amount(t, j.mutate(text=text))
    return j.select("setl_id", unit=j.drg, amount=j.amount, text=j.text)


@undersvc_rule(
    id="UNDERSVC-003",
    name="住院日与费用远低于本地区病组水平的提前出院",
    params={
        "min_cases": int,
        "min_group_los": float,
        "max_cost_ratio": float,
        "max_los_ratio": float,
        "treatment_chrgitm_types": list,
    },
)
def early_discharge_below_region_norm(t: RuleInputs, p: Params) -> ir.Table:
    """A treated case sent home early, cost and stay far below its group's regional norms.

    Policy: docs/domain-reference.md §4.6 4 (early discharge 提前出院, low-multiple case); the norm is
    the bureau's ``drg_weight`` when published, else the region's own history (the mean cost
    and LOS of the group's cases in the data), in any group, medical or surgical.
    Flags: ordered discharges in groups of at least ``min_cases`` cases with an average stay of
    at least ``min_group_los`` days, whose LOS is below ``max_los_ratio`` and cost below
    ``max_cost_ratio`` of the group's averages, and which billed treatment (a drug, treatment,
    surgery or material line: the patient was being treated, then sent home); amount = the
    DRG's standard payment − the actual cost.
    Does not flag (legitimate look-alikes): deaths, transfers, discharges against advice; stays
    with examinations only (LOWADM-003: not an admission to begin with); planned short stays
    (``days_rinp_flag_31`` = 2, chemotherapy cycles); newborns; groups whose norm is a short
    stay anyway (day-care groups below ``min_group_los``).
    """
    c = case_norms(t)
    l = t.lines  # noqa: E741
    treated = l.filter(l.chrgitm_type.isin(tuple(p["treatment_chrgitm_types"])) & (l.amt > 0))
    treated = treated.select(x_setl="setl_id").distinct()
    j = c.filter(
        (c.dscg_way == DSCG_ORDERED)
        & (c.flag31.fill_null("1") != "2")
        & (c.age.fill_null(1) >= 1)
        & (c.n_cases >= int(p["min_cases"]))
        & (c.los_total >= fraction(c.los_n, p["min_group_los"]))
        & (c.medfee < fraction(c.avg_cost, p["max_cost_ratio"]))
        & below_share_of_mean(c.los, c.los_total, c.los_n, p["max_los_ratio"])
    )
    j = j.join(treated, j.setl_id == treated.x_setl)
    text = (
        j.drg
        + "组: 住院"
        + j.los.cast("string")
        + "天(本地区组均"
        + j.avg_los.round(1).cast("string")
        + "天), 费用"
        + yuan_text(j.medfee)
        + "元(组均"
        + yuan_text(j.avg_cost)
        + "元), 提前出院"
    )
    j = _amount(t, j.mutate(text=text))
    return j.select("setl_id", unit=j.drg, amount=j.amount, text=j.text)
