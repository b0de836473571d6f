"""Items and drugs outside the hospital's level, the insurance type or their indication."""

from __future__ import annotations

from typing import TYPE_CHECKING

from huiyan.audit.helpers import diag_matches, item_label, line_hits, of_list_type, with_case
from huiyan.audit.rules.restrict.lookup import restricted_lines
from huiyan.audit.spec import (
    ITEM_STAGES,
    SEVERITY_SUSPICIOUS,
    SEVERITY_VIOLATION,
    Params,
    preset,
)

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.audit.inputs import RuleInputs

LEVEL_EVID = "国家医保局两库知识点第五批(限医疗机构级别); 医保目录限医院等级及分级定价"
INDICATION_EVID = "《医疗保障基金使用监督管理条例》第十五条; 医保药品目录限定支付范围"
LV = {"1": "一级", "2": "二级", "3": "三级"}

# Level, insurance-type and indication limits: checkable at every stage, the lines' amount.
scope_rule = preset(
    sev_deg=SEVERITY_VIOLATION, stages=ITEM_STAGES, amount="line", template="{hits}"
)


@scope_rule(
    id="LEVEL-001", name="低于限定医院等级使用", vola_bhvr_type="LEVEL", vola_evid=LEVEL_EVID
)
def below_level(t: RuleInputs, p: Params) -> ir.Table:
    """A drug or item billed at a hospital below the lowest level allowed to use it.

    Policy: NHSA batch 5 level-restricted drugs (限二级及以上医疗机构) and ``hilist.lmt_medins_lv``.
    Flags: every net line whose hospital level is below the restriction (line amount).
    Does not flag: hospitals without a level in ``medins``.
    """
    j = restricted_lines(t, "level", t.lines, ("medins_lv",), r_lv="lmt_medins_lv")
    hit = j.filter(j.c_medins_lv.notnull() & (j.c_medins_lv.cast("int32") < j.r_lv.cast("int32")))
    text = (
        hit.c_medins_lv.substitute(LV)
        + "医院使用限"
        + hit.r_lv.substitute(LV)
        + "及以上医疗机构的"
        + item_label(hit)
    )
    return line_hits(hit, hit.amt, text)


@scope_rule(
    id="LEVEL-002", name="本级医院无定价项目收费", vola_bhvr_type="LEVEL", vola_evid=LEVEL_EVID
)
def not_priced_at_level(t: RuleInputs, p: Params) -> ir.Table:
    """An item billed at a hospital level for which the catalog sets no price.

    Policy: the catalog prices items per hospital level; a blank price means the item is not
    allowed at that level (design.md §3 ``hilist.pric_lv*``).
    Flags: net lines whose item has a price at some level but none at the hospital's (line amount).
    Does not flag: items the catalog prices at no level at all (no price data).
    """
    h = t.hilist.select(
        h_code=t.hilist.hilist_code,
        p1=t.hilist.pric_lv1,
        p2=t.hilist.pric_lv2,
        p3=t.hilist.pric_lv3,
    )
    h = h.filter(h.p1.notnull() | h.p2.notnull() | h.p3.notnull())
    lines = with_case(t.lines, t.case, "medins_lv")
    j = lines.join(h, lines.code == h.h_code)
    own = j.c_medins_lv.cases(("1", j.p1), ("2", j.p2), ("3", j.p3))
    hit = j.filter(j.c_medins_lv.isin(("1", "2", "3")) & own.isnull())
    text = hit.c_medins_lv.substitute(LV) + "医院收取本级未定价的" + item_label(hit)
    return line_hits(hit, hit.amt, text)


@scope_rule(
    id="LEVEL-003",
    name="限工伤/生育保险药品由基本医保支付",
    vola_bhvr_type="LEVEL",
    vola_evid="国家医保局两库知识点第三批(限工伤/生育保险)",
    params={"basic_insutypes": list},
)
def insurance_type(t: RuleInputs, p: Params) -> ir.Table:
    """A drug payable only by work-injury or maternity insurance billed to basic insurance.

    Policy: NHSA batch 3 insurance-type-restricted drugs.
    Flags: net lines of those drugs on settlements of the types in ``basic_insutypes`` (line amount).
    """
    j = restricted_lines(t, "insutype", t.lines, ("insutype",), r_type="lmt_insutype")
    hit = j.filter(j.c_insutype.isin(tuple(p["basic_insutypes"])))
    text = "基本医保支付限" + hit.r_type + "保险的" + item_label(hit)
    return line_hits(hit, hit.amt, text)


def _indication(t: RuleInputs, drugs: bool) -> ir.Table:
    pref = t.kb["lmt_dx_prefix"].distinct()
    lines = of_list_type(t.lines, drugs)
    used = lines.select("setl_id", "code").distinct()
    wanted = used.join(pref, used.code == pref.p_code).select("setl_id", "code", "p_prefix")
    ok = diag_matches(t, wanted, "p_prefix").select(ok_setl="setl_id", ok_code="code").distinct()
    restricted = lines.join(pref.select("p_code").distinct(), lines.code == pref.p_code)
    j = restricted.left_join(
        ok, (restricted.setl_id == ok.ok_setl) & (restricted.code == ok.ok_code)
    )
    hit = j.filter(j.ok_setl.isnull())
    text = "无限定支付范围内诊断使用" + item_label(hit)
    return line_hits(hit, hit.amt, text)


@scope_rule(
    id="INDICATION-001",
    name="限定支付范围药品无适应诊断",
    vola_bhvr_type="INDICATION",
    vola_evid=INDICATION_EVID,
)
def drug_indication(t: RuleInputs, p: Params) -> ir.Table:
    """A drug with a restricted payment scope billed without any qualifying diagnosis.

    Policy: 医保药品目录 限定支付范围 (``hilist.lmt_dx``: ICD-10 prefixes that qualify).
    Flags: net lines of the drug when no diagnosis of the settlement starts with a listed prefix
    (line amount; a violation because no qualifying diagnosis exists at all).
    Does not flag: drugs without ``lmt_dx``; cases with any qualifying diagnosis.
    """
    return _indication(t, drugs=True)


@scope_rule(
    id="INDICATION-002",
    name="限定支付范围诊疗项目无适应诊断",
    vola_bhvr_type="INDICATION",
    # An item's scope text is often clinical (stage, prior therapy): a reason may exist.
    sev_deg=SEVERITY_SUSPICIOUS,
    vola_evid=INDICATION_EVID,
)
def item_indication(t: RuleInputs, p: Params) -> ir.Table:
    """A service item or material with a restricted payment scope billed without its indication.

    Policy: 医疗服务项目/医用耗材 限定支付范围 (``hilist.lmt_dx``).
    Flags: net non-drug lines when no diagnosis matches a listed prefix (line amount).
    Does not flag: items without ``lmt_dx``.
    """
    return _indication(t, drugs=False)
