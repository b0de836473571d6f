"""Shared expressions of the DRG pack: treatment evidence of codes, group norms per case."""

from __future__ import annotations

from typing import TYPE_CHECKING

from huiyan.audit.helpers import shared
from huiyan.model.domain import DSCG_ORDERED, principal_diagnoses, secondary_diagnoses

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.audit.inputs import RuleInputs


def matching_lines(t: RuleInputs, ev: ir.Table, code_col: str) -> ir.Table:
    """(setl_id, code) of ``ev`` rows (with evidence_type/evidence_code) that a net line proves."""
    lines = t.lines.select(l_setl="setl_id", l_code="code").distinct()
    # Two equi-joins instead of one join on an OR: engines hash-join on the case and code.
    items = ev.filter(ev.evidence_type == "item")
    by_item = items.join(
        lines, (items.setl_id == lines.l_setl) & (lines.l_code == items.evidence_code)
    ).select("setl_id", code_col)
    atc = ev.filter(ev.evidence_type == "atc")
    by_atc = atc.join(lines, atc.setl_id == lines.l_setl)
    by_atc = by_atc.filter(by_atc.l_code.startswith("X" + by_atc.evidence_code))
    hit = by_item.union(by_atc.select("setl_id", code_col))
    return hit.select("setl_id", code_col).distinct()


@shared
def unsupported_secondary_dx(t: RuleInputs) -> ir.Table:
    """(setl_id, diag_code) of secondary diagnoses with evidence rows and no matching net line.

    A diagnosis without evidence rows in ``dx_evidence`` is not judged (docs/design.md §3).
    """
    from huiyan.audit.helpers import longest_prefix_match

    d = t.diag
    sec = secondary_diagnoses(d).select("setl_id", "diag_code").distinct()
    ev = t.kb["dx_evidence"]
    ev = ev.filter(ev.role.isin(("secondary", "any")))
    judged = longest_prefix_match(sec, "diag_code", ev, "diag_prefix")
    proved = matching_lines(t, judged, "diag_code")
    return (
        judged.select("setl_id", "diag_code").distinct().anti_join(proved, ["setl_id", "diag_code"])
    )


def _category_lines(t: RuleInputs) -> ir.Table:
    """(c_setl) of stays with a net line of the national surgery/anaesthesia fee categories or
    item-code chapters (``procedure_evidence`` in the audit settings)."""
    import ibis

    s = t.settings.get("procedure_evidence", {})
    types = tuple(s.get("chrgitm_types", ()))
    prefixes = tuple(s.get("code_prefixes", ()))
    l = t.lines  # noqa: E741
    cond = l.chrgitm_type.isin(types) if types else ibis.literal(False)
    for prefix in prefixes:
        cond = cond | l.code.startswith(prefix)
    return l.filter(cond).select(c_setl="setl_id").distinct()


@shared
def unperformed_principal_procedure(t: RuleInputs) -> ir.Table:
    """(setl_id, oprn_oprt_code, basis) of principal procedures coded but never charged.

    A bureau's ``oprn_evidence`` is rarely complete, so the national fee categories back it:
    a stay with any surgery or anaesthesia line (fee category 手术费 06, service-item chapter
    33 手术治疗 / 3301 麻醉) had an operation, whatever the procedure → item map says. So a
    principal procedure is unperformed when (``basis`` = ``item``) it has evidence rows, none
    matches a net line and the stay has no surgery/anaesthesia line; or (``category``) it has
    no evidence rows, is an operating-room procedure of the scheme (an operation, not a
    diagnostic, bedside or drug procedure such as chemotherapy) and the stay has no
    surgery/anaesthesia line.
    """
    import ibis

    from huiyan.audit.helpers import longest_prefix_match

    o = t.oprn
    main = o.filter((o.oprn_srt_no == 1) | (o.main_oprn_flag == "1"))
    keys = main.select("setl_id", "oprn_oprt_code").distinct()
    judged = longest_prefix_match(keys, "oprn_oprt_code", t.kb["oprn_evidence"], "oprn_prefix")
    proved = matching_lines(t, judged, "oprn_oprt_code")
    with_rows = judged.select("setl_id", "oprn_oprt_code").distinct()
    by_item = with_rows.anti_join(proved, ["setl_id", "oprn_oprt_code"]).mutate(
        basis=ibis.literal("item")
    )
    orp = t.kb["or_procedure"]
    operations = keys.join(orp, keys.oprn_oprt_code == orp.or_code).select(
        "setl_id", "oprn_oprt_code"
    )
    by_category = operations.anti_join(with_rows, ["setl_id", "oprn_oprt_code"]).mutate(
        basis=ibis.literal("category")
    )
    bad = by_item.union(by_category)
    surgery = _category_lines(t)
    return bad.anti_join(surgery, bad.setl_id == surgery.c_setl)


def basis_text(j: ir.Table) -> ir.StringValue:
    """How an unperformed procedure was judged, for the finding text."""
    return (j.basis == "category").ifelse(
        "(知识库无该手术收费对照, 按国家收费类别与项目编码章节判断)", ""
    )


def unperformed_procedure_cases(t: RuleInputs) -> ir.Table:
    """Grouped cases whose principal procedure was coded but never charged, with the case's
    cost, stay, discharge way and its group's norms (``case_norms``)."""
    bad = unperformed_principal_procedure(t)
    c = case_norms(t)
    return bad.join(c, bad.setl_id == c.setl_id).select(
        bad.setl_id,
        bad.oprn_oprt_code,
        bad.basis,
        c.drg,
        c.medfee,
        c.avg_cost,
        c.los,
        c.avg_los,
        c.los_total,
        c.los_n,
        c.dscg_way,
        c.std,
        c.coef,
    )


EARLY_DISCHARGE_RULE = "UNDERSVC-001"


def early_discharge(t: RuleInputs, j: ir.Table) -> ir.BooleanValue:
    """An early discharge 提前出院 as UNDERSVC-001's parameters define it: ordered (dscg_way 1),
    cost and stay both below their ratios of the group's averages; never when that rule is off.

    An uncharged principal procedure is under-service in such a stay (the patient was sent home
    without the operation) and upcoding in any other (UPCODE-002): one definition, so each
    case goes to exactly one of the two classes.
    """
    import ibis

    from huiyan.audit.helpers import below_share_of_mean, fraction

    p = t.rule_params.get(EARLY_DISCHARGE_RULE)
    if p is None:
        return ibis.literal(False)
    return (
        (j.dscg_way == DSCG_ORDERED)
        & (j.medfee < fraction(j.avg_cost, p["max_cost_ratio"]))
        & below_share_of_mean(j.los, j.los_total, j.los_n, p["max_los_ratio"])
    )


@shared
def effective_cc(t: RuleInputs) -> ir.Table:
    """(setl_id, diag_code, cc_kind) of secondary diagnoses that are MCC/CC for the principal.

    A code of the scheme's MCC/CC lists does not count when its exclusion table is listed for
    the case's principal diagnosis (``cc_exclusion``).
    """
    d = t.diag
    principal = principal_diagnoses(d).select(p_setl="setl_id", p_code="diag_code")
    sec = secondary_diagnoses(d).select("setl_id", "diag_code")
    cc = t.kb["mcc_cc"]
    j = sec.join(cc, sec.diag_code == cc.cc_code)
    j = j.join(principal, j.setl_id == principal.p_setl)
    ex = t.kb["cc_exclusion"]
    excluded = j.join(ex, (j.p_code == ex.ex_principal) & (j.cc_table == ex.ex_table)).select(
        "setl_id", "diag_code"
    )
    return (
        j.select("setl_id", "diag_code", "cc_kind")
        .anti_join(excluded, ["setl_id", "diag_code"])
        .distinct()
    )


@shared
def decisive_unsupported_cc(t: RuleInputs) -> ir.Table:
    """Unsupported MCC/CC codes the case's DRG depends on, with the DRG it would group to.

    A case in a DRG selected by an MCC (``drg_split`` = mcc) depends on its unsupported MCC
    codes when no supported effective MCC remains; one in a DRG selected by an MCC or CC
    (``cc``) on its unsupported MCC/CC codes when no supported effective MCC or CC remains.
    Without them it groups to the lighter sibling: the CC DRG when a supported CC remains
    and the ADRG has one, else the DRG without complications (``lighter``).
    Columns: setl_id, diag_code, cc_kind, drg, lighter.
    """
    import ibis

    cc = effective_cc(t)
    bad = unsupported_secondary_dx(t)
    unsupported = cc.join(bad, ["setl_id", "diag_code"]).select("setl_id", "diag_code", "cc_kind")
    supported = cc.anti_join(bad, ["setl_id", "diag_code"])
    left = supported.group_by(k_setl="setl_id").aggregate(
        k_mcc=(supported.cc_kind == "mcc").cast("int64").sum(), k_any=supported.count()
    )
    d = t.drg.filter(t.drg.status == "SUCCESS").select(g_setl="setl_id", drg="drg")
    split = t.kb["drg_split"]
    d = d.join(split, d.drg == split.drg).select(
        "g_setl", "drg", "split", "cc_sibling", "none_sibling"
    )
    j = unsupported.join(d, unsupported.setl_id == d.g_setl)
    j = j.left_join(left, j.setl_id == left.k_setl)
    k_mcc, k_any = j.k_mcc.fill_null(0), j.k_any.fill_null(0)
    decisive = ((j.split == "mcc") & (j.cc_kind == "mcc") & (k_mcc == 0)) | (
        (j.split == "cc") & (k_any == 0)
    )
    j = j.filter(decisive)
    lighter = ibis.ifelse(
        (j.split == "mcc") & (j.k_any.fill_null(0) > 0) & j.cc_sibling.notnull(),
        j.cc_sibling,
        j.none_sibling,
    )
    return j.select("setl_id", "diag_code", "cc_kind", "drg", lighter=lighter)


@shared
def case_norms(t: RuleInputs) -> ir.Table:
    """Per grouped case: DRG, ADRG, norms (average cost and LOS) and the standard payment
    (``std``, MONEY) with the case's coefficient (``coef``, an exact factor, 1 when unpriced)."""
    from huiyan.model.exact import FACTOR, lit

    d = t.drg.filter(t.drg.status == "SUCCESS").select(
        "drg", "adrg", "has_mcc", "has_cc", g_setl="setl_id"
    )
    c = t.case.join(d, t.case.setl_id == d.g_setl)
    n = t.norms.select("avg_cost", "avg_los", "los_total", "los_n", "n_cases", n_drg="drg")
    c = c.join(n, c.drg == n.n_drg)
    pay = t.payment.select(
        y_setl="setl_id",
        std=t.payment.standard_payment,
        coef=t.payment.coefficient.cast(FACTOR).fill_null(lit(1)),
    )
    c = c.left_join(pay, c.setl_id == pay.y_setl)
    return c.drop("g_setl", "n_drg", "y_setl")


def drg_prices(t: RuleInputs) -> ir.Table:
    """Per DRG (``w_drg``): its weight and the rate (``w_weight``, ``w_rate``) as priced.

    Every priced case of a DRG carries the same weight and rate (or points and point value);
    weight × rate × the case's coefficient is the DRG's standard payment for that case.
    """
    p = t.payment
    p = p.filter(p.weight_or_score.notnull() & p.rate_or_point_value.notnull())
    return p.group_by(w_drg=p.group).aggregate(
        w_weight=p.weight_or_score.max(), w_rate=p.rate_or_point_value.max()
    )


def standard_in(t: RuleInputs, j: ir.Table, drg: ir.StringValue) -> ir.Table:
    """``j`` (with ``coef`` from ``case_norms``) plus ``drg_std``: the standard payment the
    case would get as a normal case of ``drg`` (null when that DRG is not priced).

    Priced as pricing prices a normal case (``model.exact``): the exact product of the
    factors, rounded once at the fen, so the payment differences are differences of amounts
    the bureau would actually pay.
    """
    from huiyan.model.exact import lit, money, product

    prices = drg_prices(t)
    j = j.left_join(prices, drg == prices.w_drg)
    coef = j.coef.fill_null(lit(1))
    return j.mutate(drg_std=money(product(j.w_weight, j.w_rate, coef))).drop(
        "w_drg", "w_weight", "w_rate"
    )
