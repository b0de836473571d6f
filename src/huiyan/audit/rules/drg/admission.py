"""Split admissions (分解住院) and low-standard admissions (低标准入院)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from huiyan.audit.helpers import fen, fraction, half_up_quotient, yuan_zero
from huiyan.audit.rules.drg.evidence import case_norms
from huiyan.audit.spec import CASE_STAGES, SEVERITY_SUSPICIOUS, Params, preset
from huiyan.model.domain import DSCG_ORDERED, DSCG_TRANSFERS, principal_diagnoses

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.audit.inputs import RuleInputs

SPLIT_EVID = "《医疗保障基金使用监督管理条例》第三十八条(分解住院); DRG付费病例再入院管理"
LOWADM_EVID = "《医疗保障基金使用监督管理条例》第三十八条; 不符合入院指征的低标准入院"

# Split admissions: suspicious (judged on review), whole-stay rules, the later stay's fund payment.
split_rule = preset(
    vola_bhvr_type="SPLIT",
    sev_deg=SEVERITY_SUSPICIOUS,
    stages=CASE_STAGES,
    amount="fund_pay",
    vola_evid=SPLIT_EVID,
    template="{hits}",
)
# Low-standard admissions: suspicious, whole-stay rules, the whole case cost.
lowadm_rule = preset(
    vola_bhvr_type="LOWADM",
    sev_deg=SEVERITY_SUSPICIOUS,
    stages=CASE_STAGES,
    amount="case_cost",
    vola_evid=LOWADM_EVID,
    template="{hits}",
)


def _pairs(t: RuleInputs, p: Params, *, same_hospital: bool) -> ir.Table:
    """(earlier a, later b) stays of one person within the window, b not planned nor a transfer."""
    cols = (
        "setl_id",
        "psn_no",
        "medins_code",
        "adm_sec",
        "dscg_sec",
        "adm_day",
        "dscg_day",
        "flag31",
        "adm_way",
        "dscg_way",
        "fund_pay",
    )
    c = t.case.select(*cols)
    pdx = principal_diagnoses(t.diag).select(x_setl="setl_id", pdx="diag_code")
    g = t.drg.select(y_setl="setl_id", adrg="adrg")
    c = c.left_join(pdx, c.setl_id == pdx.x_setl).left_join(g, c.setl_id == g.y_setl)
    c = c.drop("x_setl", "y_setl")
    a = c.rename(lambda n: f"a_{n}")
    b = c.rename(lambda n: f"b_{n}")
    hospital = (
        (a.a_medins_code == b.b_medins_code)
        if same_hospital
        else (a.a_medins_code != b.b_medins_code)
    )
    j = a.join(
        b,
        (a.a_psn_no == b.b_psn_no)
        & (a.a_setl_id != b.b_setl_id)
        & hospital
        & (b.b_adm_sec >= a.a_dscg_sec)
        & (b.b_adm_day - a.a_dscg_day <= int(p["window_days"])),
    )
    # A planned readmission is declared on the earlier stay (出院31天内再住院计划 = 2); some
    # systems mark the readmission itself, so a pair with either flag is planned.
    planned = (j.a_flag31.fill_null("1") == "2") | (j.b_flag31.fill_null("1") == "2")
    return j.filter(~planned & (j.b_adm_way.fill_null("") != "3"))


def _related(j: ir.Table, p: Params) -> ir.BooleanValue:
    same_adrg = j.a_adrg.notnull() & (j.a_adrg == j.b_adrg)
    same_cat = j.a_pdx.notnull() & (j.a_pdx.substr(0, 3) == j.b_pdx.substr(0, 3))
    return same_adrg | same_cat if p["match"] == "adrg_or_category" else same_adrg


def _split_hits(j: ir.Table, what: str) -> ir.Table:
    gap = (j.b_adm_day - j.a_dscg_day).cast("string")
    text = "出院" + gap + "天后" + what + ", 前次结算" + j.a_setl_id
    return j.select(
        setl_id=j.b_setl_id, unit=j.a_setl_id, amount=j.b_fund_pay.fill_null(yuan_zero()), text=text
    )


@split_rule(
    id="SPLIT-001", name="同一机构短期内同病种再入院", params={"window_days": int, "match": str}
)
def same_hospital_readmission(t: RuleInputs, p: Params) -> ir.Table:
    """Readmission to the same hospital within ``window_days`` for the same condition.

    Policy: docs/domain-reference.md §4.6 2 (default 15 days, same ADRG or ICD-10 category).
    Flags: the later stay; detail = the earlier settlement; amount = the later stay's fund
    payment.
    Does not flag: planned readmissions (``days_rinp_flag_31`` = 2 on either stay, e.g. chemo
    cycles), transfers in (``adm_way`` 3), readmissions for unrelated conditions.
    """
    j = _pairs(t, p, same_hospital=True)
    return _split_hits(j.filter(_related(j, p)), "同机构同病种再入院")


@split_rule(id="SPLIT-002", name="出院当日或次日同机构再入院", params={"window_days": int})
def next_day_readmission(t: RuleInputs, p: Params) -> ir.Table:
    """Discharge and readmission to the same hospital on the same or the next day.

    Policy: docs/domain-reference.md §4.6 2 variant (strong signal whatever the diagnosis).
    Flags: the later stay when it starts within ``window_days`` (default 1) calendar days of the
    discharge; amount = its fund payment.
    Does not flag: planned readmissions, transfers in.
    """
    return _split_hits(_pairs(t, p, same_hospital=True), "即再次入院")


@split_rule(
    id="SPLIT-003", name="短期内转至其他机构同病种再入院", params={"window_days": int, "match": str}
)
def other_hospital_readmission(t: RuleInputs, p: Params) -> ir.Table:
    """Readmission to another hospital within ``window_days`` for the same ADRG, not a transfer.

    Policy: docs/domain-reference.md §4.6 2 variant (another institution of the same alliance).
    Flags: the later stay; amount = its fund payment.
    Does not flag: transfers (``adm_way`` 3 or earlier ``dscg_way`` 2/3), planned readmissions.
    """
    j = _pairs(t, p, same_hospital=False)
    j = j.filter(~j.a_dscg_way.fill_null("").isin(DSCG_TRANSFERS))
    return _split_hits(j.filter(_related(j, p)), "至其他机构同病种再入院")


def _short_cheap(t: RuleInputs, p: Params) -> ir.Table:
    c = case_norms(t)
    return c.filter(
        (c.los <= int(p["max_los"]))
        & (c.dscg_way == DSCG_ORDERED)
        & (c.medfee < fraction(c.avg_cost, p["max_cost_ratio"]))
    )


@lowadm_rule(
    id="LOWADM-001",
    name="门诊可治疗病种短期住院仅做检查",
    params={"max_los": int, "max_cost_ratio": float, "allowed_chrgitm_types": list},
)
def outpatient_condition_exams_only(t: RuleInputs, p: Params) -> ir.Table:
    """A condition treatable as an outpatient admitted briefly for examinations only.

    Policy: docs/domain-reference.md §4.6 3 (LOS ≤ 3 days, cost < 40 % of the group's average,
    ``outpatient_treatable`` list).
    Flags: ordered discharges with a principal diagnosis in ``outpatient_treatable``, LOS ≤
    ``max_los``, cost below ``max_cost_ratio`` of the group average and only lines of
    ``allowed_chrgitm_types`` (bed, consultation, exam, lab, nursing); amount = the case cost.
    Does not flag: deaths, transfers, discharges against advice.
    """
    from huiyan.audit.helpers import longest_prefix_match

    c = _short_cheap(t, p)
    pdx = principal_diagnoses(t.diag).select("setl_id", "diag_code")
    treatable = (
        longest_prefix_match(pdx, "diag_code", t.kb["outpatient_treatable"], "diag_prefix")
        .select(o_setl="setl_id", o_code="diag_code")
        .distinct()
    )
    other = t.lines.filter(~t.lines.chrgitm_type.isin(tuple(p["allowed_chrgitm_types"])))
    other = other.select(x_setl="setl_id").distinct()
    j = c.join(treatable, c.setl_id == treatable.o_setl)
    j = j.anti_join(other, j.setl_id == other.x_setl)
    text = (
        "门诊可治疗病种"
        + j.o_code
        + "住院"
        + j.los.cast("string")
        + "天, 仅有检查检验及床位护理费用"
    )
    return j.select("setl_id", unit=j.o_code, amount=j.medfee, text=text)


@lowadm_rule(
    id="LOWADM-002",
    name="短期低费用住院以检查检验为主",
    params={
        "max_los": int,
        "max_cost_ratio": float,
        "min_exam_share": float,
        "exam_chrgitm_types": list,
        "banned_chrgitm_types": list,
    },
)
def exams_dominated_stay(t: RuleInputs, p: Params) -> ir.Table:
    """A short cheap stay whose charges are almost only examinations and tests.

    Policy: docs/domain-reference.md §4.6 3 (exam + lab share ≥ 70 %, no surgery, no drugs).
    Flags: ordered discharges with LOS ≤ ``max_los``, cost below ``max_cost_ratio`` of the group
    average, exam/lab share ≥ ``min_exam_share`` and no surgery, drug or material lines;
    amount = the case cost.
    """
    import ibis

    c = _short_cheap(t, p)
    l = t.lines  # noqa: E741
    exam = l.chrgitm_type.isin(tuple(p["exam_chrgitm_types"]))
    banned = l.chrgitm_type.isin(tuple(p["banned_chrgitm_types"]))
    s = l.group_by(s_setl=l.setl_id).aggregate(
        total=l.amt.sum(),
        exam=exam.ifelse(l.amt, yuan_zero()).sum(),
        banned=banned.cast("int32").sum(),
    )
    j = c.join(s, c.setl_id == s.s_setl)
    j = j.filter(
        (j.banned == 0) & (j.total > 0) & (j.exam >= fraction(j.total, p["min_exam_share"]))
    )
    # The whole percent, half up, exactly: the same text on every engine.
    share = half_up_quotient(fen(j.exam) * 100, fen(j.total)).cast("string")
    text = "住院" + j.los.cast("string") + "天, 检查检验费用占" + share + "%, 无治疗"
    return j.select("setl_id", unit=ibis.null("string"), amount=j.medfee, text=text)


@lowadm_rule(
    id="LOWADM-003",
    name="住院一至两日仅做检查检验",
    params={"max_los": int, "exam_chrgitm_types": list, "allowed_chrgitm_types": list},
)
def exams_only_short_stay(t: RuleInputs, p: Params) -> ir.Table:
    """An admission of a day or two that only ran examinations and tests.

    Policy: docs/domain-reference.md §4.6 3 (admission without inpatient indication: 挂床检查, 以检代住);
    examinations alone can be done in the outpatient clinic, whatever the group's norms (a
    region may publish none, and ungrouped cases have none).
    Flags: ordered discharges with LOS ≤ ``max_los`` whose net lines include at least one
    examination or laboratory line (``exam_chrgitm_types``) and no line outside
    ``allowed_chrgitm_types`` (bed, consultation, exam, lab, nursing, general, registration);
    amount = the case cost.
    Does not flag (legitimate look-alikes): deaths on day 1, transfers and discharges against
    advice (``dscg_way`` ≠ 1); newborns (age 0: observation of a newborn is care); short stays
    with any drug, treatment, surgery or material line (chemotherapy cycles, day surgery,
    transfusions); planned readmissions (``days_rinp_flag_31`` = 2: staged work-up).
    """
    c = t.case
    c = c.filter(
        (c.los <= int(p["max_los"]))
        & (c.dscg_way == DSCG_ORDERED)
        & (c.age.fill_null(1) >= 1)
        & (c.flag31.fill_null("1") != "2")
    )
    ln = t.lines.filter(t.lines.amt > 0)
    exam = ln.chrgitm_type.isin(tuple(p["exam_chrgitm_types"]))
    other = ~ln.chrgitm_type.isin(tuple(p["allowed_chrgitm_types"]))
    s = ln.group_by(s_setl=ln.setl_id).aggregate(
        exam=exam.cast("int32").sum(),
        other=other.cast("int32").sum(),
        exam_amt=exam.ifelse(ln.amt, yuan_zero()).sum(),
    )
    j = c.join(s, c.setl_id == s.s_setl)
    j = j.filter((j.exam > 0) & (j.other == 0))
    text = (
        "住院"
        + j.los.cast("string")
        + "天, 仅有检查检验"
        + j.exam_amt.round(2).cast("string")
        + "元及床位护理诊查费用, 无任何治疗"
    )
    return j.select("setl_id", unit=j.setl_id, amount=j.medfee, text=text)
