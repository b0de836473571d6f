"""Diagnosis over-coding and mis-coding (诊断多编/错编)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from huiyan.audit.rules.drg.evidence import decisive_unsupported_cc, unsupported_secondary_dx
from huiyan.audit.spec import (
    CASE_STAGES,
    ITEM_STAGES,
    SEVERITY_SUSPICIOUS,
    SEVERITY_VIOLATION,
    Params,
    preset,
)
from huiyan.model.domain import principal_diagnoses

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.audit.inputs import RuleInputs

CODING_EVID = "《医疗保障基金结算清单填写规范》; 医保版ICD-10编码规则; 知识库诊断限定"
GEND = {"1": "男", "2": "女"}

# Every coding rule: class DXCODE, no amount (a coding finding), the same policy basis.
dxcode_rule = preset(
    vola_bhvr_type="DXCODE", amount="none", vola_evid=CODING_EVID, template="{hits}"
)


def _zero(table: ir.Table, unit: ir.Value, text: ir.Value) -> ir.Table:
    from huiyan.audit.helpers import yuan_zero

    return table.select("setl_id", unit=unit, amount=yuan_zero(), text=text)


def _restricted(t: RuleInputs) -> ir.Table:
    from huiyan.audit.helpers import longest_prefix_match

    d = t.diag.select("setl_id", "diag_code", "diag_srt_no")
    j = longest_prefix_match(d, "diag_code", t.kb["diag_restriction"], "diag_prefix")
    c = t.case.select(c_setl="setl_id", gend="gend", age="age")
    return j.join(c, j.setl_id == c.c_setl)


@dxcode_rule(
    id="DXCODE-001",
    name="其他诊断无治疗证据(不影响分组)",
    sev_deg=SEVERITY_SUSPICIOUS,
    stages=CASE_STAGES,
    params={"max_cut_short_los": int, "cut_short_dscg_ways": list},
)
def untreated_secondary(t: RuleInputs, p: Params) -> ir.Table:
    """A secondary diagnosis with no treatment evidence that does not change the DRG.

    Policy: docs/domain-reference.md §4.6 5 (secondary diagnoses with no evidence); ``dx_evidence``.
    Flags: secondary codes with evidence rows and no matching net line on which the case's DRG
    does not depend (those are UPCODE-001); amount 0 (a coding finding).
    Does not flag (legitimate look-alikes): stays of at most ``max_cut_short_los`` days ended
    by death, transfer or discharge against advice (``cut_short_dscg_ways``): a comorbidity
    recorded on admission is real even when the stay ended before it could be treated.
    """
    bad = unsupported_secondary_dx(t)
    lifts = decisive_unsupported_cc(t).select("setl_id", "diag_code")
    j = bad.anti_join(lifts, ["setl_id", "diag_code"])
    c = t.case
    short = c.filter(
        (c.los <= int(p["max_cut_short_los"])) & c.dscg_way.isin(tuple(p["cut_short_dscg_ways"]))
    ).select(x_setl="setl_id")
    j = j.anti_join(short, j.setl_id == short.x_setl)
    return _zero(j, j.diag_code, "其他诊断" + j.diag_code + "无相应治疗或检查证据")


@dxcode_rule(
    id="DXCODE-002", name="诊断与患者性别不符", sev_deg=SEVERITY_VIOLATION, stages=ITEM_STAGES
)
def dx_sex(t: RuleInputs, p: Params) -> ir.Table:
    """A diagnosis restricted to one sex coded for a patient of the other sex.

    Policy: ``diag_restriction.lmt_gend`` (e.g. N40 male only, O female only).
    Flags: each such diagnosis; amount 0. Does not flag: unknown sex.
    """
    j = _restricted(t)
    j = j.filter(j.lmt_gend.isin(("1", "2")) & j.gend.isin(("1", "2")) & (j.lmt_gend != j.gend))
    text = (
        j.gend.substitute(GEND)
        + "性患者诊断"
        + j.diag_code
        + "(限"
        + j.lmt_gend.substitute(GEND)
        + "性)"
    )
    return _zero(j, j.diag_code, text)


@dxcode_rule(
    id="DXCODE-003", name="诊断与患者年龄不符", sev_deg=SEVERITY_VIOLATION, stages=ITEM_STAGES
)
def dx_age(t: RuleInputs, p: Params) -> ir.Table:
    """A diagnosis restricted to an age range coded outside it.

    Policy: ``diag_restriction.age_min/age_max`` (years, both inclusive).
    Flags: each such diagnosis; amount 0. Does not flag: cases without an age.
    """
    j = _restricted(t)
    age = j.age.cast("float64")
    j = j.filter(
        age.notnull()
        & ((j.age_min.notnull() & (age < j.age_min)) | (j.age_max.notnull() & (age > j.age_max)))
    )
    return _zero(j, j.diag_code, j.age.cast("string") + "岁患者诊断" + j.diag_code + "超出限定年龄")


@dxcode_rule(
    id="DXCODE-004", name="互斥诊断同时存在", sev_deg=SEVERITY_VIOLATION, stages=ITEM_STAGES
)
def exclusive_dx(t: RuleInputs, p: Params) -> ir.Table:
    """Two diagnoses that cannot both be present (``diag_exclusive``, e.g. E10 with E11).

    Policy: ``diag_exclusive`` pairs of prefixes.
    Flags: each case with a code of both prefixes; detail = the two codes; amount 0.
    """
    x = t.kb["diag_exclusive"]
    a = t.diag.select(a_setl="setl_id", a_code="diag_code")
    b = t.diag.select(b_setl="setl_id", b_code="diag_code")
    ax = a.join(x, a.a_code.startswith(x.diag_prefix_a))
    j = ax.join(b, (ax.a_setl == b.b_setl) & b.b_code.startswith(ax.diag_prefix_b))
    j = j.mutate(setl_id=j.a_setl)
    return _zero(
        j, j.a_code + "|" + j.b_code, "诊断" + j.a_code + "与" + j.b_code + "互斥"
    ).distinct()


@dxcode_rule(
    id="DXCODE-005",
    name="不能作为主诊断的编码作主诊断",
    sev_deg=SEVERITY_VIOLATION,
    stages=ITEM_STAGES,
)
def not_principal(t: RuleInputs, p: Params) -> ir.Table:
    """A code that may not be principal coded as the principal diagnosis.

    Policy: ``diag_restriction.principal_allowed`` = 0.
    Flags: the principal diagnosis; amount 0.
    """
    j = _restricted(t)
    pdx = principal_diagnoses(t.diag).select("setl_id", "diag_code")
    j = j.filter(j.principal_allowed == "0").semi_join(pdx, ["setl_id", "diag_code"])
    return _zero(j, j.diag_code, "诊断" + j.diag_code + "不能作为主诊断")


@dxcode_rule(
    id="DXCODE-006", name="星号编码单独作主诊断", sev_deg=SEVERITY_VIOLATION, stages=ITEM_STAGES
)
def bare_asterisk(t: RuleInputs, p: Params) -> ir.Table:
    """A manifestation (asterisk) code alone as the principal diagnosis.

    Policy: docs/design.md §3 — a dagger–asterisk pair is a valid principal code, a bare asterisk
    code is not.
    Flags: principal codes containing ``*`` without a ``+`` dagger part; amount 0.
    """
    d = principal_diagnoses(t.diag)
    j = d.filter(d.diag_code.contains("*") & ~d.diag_code.contains("+"))
    return _zero(j, j.diag_code, "星号编码" + j.diag_code + "不能单独作主诊断")
