"""Items and drugs restricted by the patient's sex or age (NHSA batch 1, hilist limits)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from huiyan.audit.helpers import item_label, line_hits, of_list_type
from huiyan.audit.rules.restrict.lookup import restricted_lines
from huiyan.audit.spec import ITEM_STAGES, SEVERITY_VIOLATION, Params, preset

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.audit.inputs import RuleInputs

SEX_EVID = (
    "《医疗保障基金使用监督管理条例》第十五条; 国家医保局两库知识点第一批(限定性别); 医保目录限性别"
)
AGE_EVID = "《医疗保障基金使用监督管理条例》第十五条; 国家医保局两库知识点第一批(限儿童/新生儿等); 医保目录限年龄"
GEND = {"1": "男", "2": "女"}

# Sex and age limits: violations checkable at every stage, the offending lines' amount.
_limit_rule = preset(
    sev_deg=SEVERITY_VIOLATION, stages=ITEM_STAGES, amount="line", template="{hits}"
)
sex_rule = _limit_rule.but(vola_bhvr_type="SEX", vola_evid=SEX_EVID)
age_rule = _limit_rule.but(vola_bhvr_type="AGE", vola_evid=AGE_EVID)


def _sex(t: RuleInputs, drugs: bool) -> ir.Table:
    j = restricted_lines(t, "sex", of_list_type(t.lines, drugs), ("gend",), r_gend="lmt_gend")
    hit = j.filter(j.c_gend.isin(("1", "2")) & j.r_gend.isin(("1", "2")) & (j.c_gend != j.r_gend))
    text = (
        hit.c_gend.substitute(GEND)
        + "性患者使用限"
        + hit.r_gend.substitute(GEND)
        + "性的"
        + item_label(hit)
    )
    return line_hits(hit, hit.amt, text)


@sex_rule(id="SEX-001", name="限性别药品用于另一性别")
def sex_drug(t: RuleInputs, p: Params) -> ir.Table:
    """A drug restricted to one sex billed for a patient of the other sex.

    Policy: NHSA two-libraries knowledge points batch 1 (限定性别药品) and the catalog's
    ``lmt_gend``; funds may not pay for drugs outside their payment scope (条例 Art. 15).
    Flags: every net drug line whose restriction names the other sex (line amount).
    Does not flag: patients of unknown sex (gend 9 or blank).
    """
    return _sex(t, drugs=True)


@sex_rule(id="SEX-002", name="限性别诊疗项目/耗材用于另一性别")
def sex_item(t: RuleInputs, p: Params) -> ir.Table:
    """A service item or material restricted to one sex billed for the other sex.

    Policy: NHSA batch 1 sex-restricted items (限定性别项目) and the catalog's ``lmt_gend``.
    Flags: every net non-drug line whose restriction names the other sex (line amount).
    Does not flag: patients of unknown sex.
    """
    return _sex(t, drugs=False)


def _age(t: RuleInputs, drugs: bool) -> ir.Table:
    lines = of_list_type(t.lines, drugs)
    j = restricted_lines(t, "age", lines, ("age",), r_min="age_min", r_max="age_max")
    age = j.c_age.cast("float64")
    low = j.r_min.fill_null(0.0)
    hit = j.filter(age.notnull() & ((age < low) | (j.r_max.notnull() & (age >= j.r_max))))
    # The restriction keeps age_max exclusive; show the inclusive upper age people read.
    rng = (
        hit.r_min.fill_null(0.0).cast("int64").cast("string")
        + "–"
        + (hit.r_max - 1).cast("int64").cast("string").fill_null("")
        + "岁"
    )
    text = hit.c_age.cast("string") + "岁患者使用限" + rng + "的" + item_label(hit)
    return line_hits(hit, hit.amt, text).distinct()


@age_rule(id="AGE-001", name="限年龄药品超出年龄范围使用")
def age_drug(t: RuleInputs, p: Params) -> ir.Table:
    """A drug restricted to an age range billed for a patient outside it.

    Policy: NHSA batch 1 child-only drugs (儿童/新生儿/婴幼儿) and the catalog's
    ``lmt_age_min``/``lmt_age_max`` (age at admission, maximum exclusive after +1).
    Flags: every net drug line with the patient's age outside the range (line amount).
    Does not flag: cases without an age.
    """
    return _age(t, drugs=True)


@age_rule(id="AGE-002", name="限年龄诊疗项目超出年龄范围使用")
def age_item(t: RuleInputs, p: Params) -> ir.Table:
    """A service item restricted to an age range billed outside it (child-only, working age).

    Policy: NHSA batch 1 child-only items and batch 8-2 working-age items; catalog age limits.
    Flags: every net non-drug line with the patient's age outside the range (line amount).
    Does not flag: cases without an age.
    """
    return _age(t, drugs=False)
