"""Diagnosis and procedure structure: one principal diagnosis allowed as principal, counts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ibis

from huiyan.quality.logic._util import not_empty, out
from huiyan.quality.logic.registry import logic

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.quality.inputs import QcInputs


@logic("no_principal_diag")
def no_principal_diag(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    s = q.setl_list
    bad = s.anti_join(q.principal, "setl_id")
    return out(bad, "maindiag_flag", ibis.null("string"))


@logic("multiple_principal_diag")
def multiple_principal_diag(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    pr = q.principal
    agg = pr.group_by("setl_id").aggregate(n=pr.count(), codes=pr.diag_code.group_concat(","))
    bad = agg.filter(agg.n > 1)
    return out(bad, "maindiag_flag", bad.codes, bad.n)


@logic("principal_not_first")
def principal_not_first(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    pr = q.principal
    bad = pr.filter(pr.diag_srt_no != 1)
    return out(bad, "diag_srt_no", bad.diag_srt_no, bad.diag_code)


@logic("principal_asterisk")
def principal_asterisk(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    pr = q.principal
    bad = pr.filter(pr.diag_code.endswith("*") & ~pr.diag_code.contains("+"))
    return out(bad, "diag_code", bad.diag_code)


def _principal_in(q: QcInputs, kind: str) -> ir.Table:
    ref = q.refs["principal_not_allowed"]
    ref = ref.filter(ref.kind == kind)
    pr = q.principal
    j = pr.join(ref, pr.diag_code.startswith(ref.prefix))
    return out(j, "diag_code", j.diag_code, j.note)


@logic("principal_external_cause")
def principal_external_cause(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    return _principal_in(q, "external_cause")


@logic("principal_sequela")
def principal_sequela(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    return _principal_in(q, "sequela")


@logic("principal_symptom")
def principal_symptom(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    # An R-code (symptom/sign) as principal while a definite (A–Q, S–T) diagnosis is coded.
    d = q.diseinfo
    pr = q.principal
    sym = pr.filter(pr.diag_code.startswith("R")).select("setl_id", "diag_code")
    first = d.diag_code.substr(0, 1)
    definite = d.filter(
        (d.maindiag_flag != "1") & (first >= "A") & (first <= "T") & (first != "R")
    ).select(setl_id2=d.setl_id, other_code=d.diag_code)
    j = sym.join(definite, sym.setl_id == definite.setl_id2)
    agg = j.group_by(["setl_id", "diag_code"]).aggregate(other=j.other_code.min())
    return out(agg, "diag_code", agg.diag_code, agg.other)


@logic("duplicate_diag")
def duplicate_diag(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    d = q.diseinfo
    agg = d.group_by(["setl_id", "diag_code"]).aggregate(n=d.count())
    bad = agg.filter(agg.n > 1)
    return out(bad, "diag_code", bad.diag_code, bad.n)


def _count_mismatch(q: QcInputs, table: str, field: str) -> ir.Table:
    t = q.tables[table]
    n = t.group_by("setl_id").aggregate(n=t.count())
    s = q.setl_list
    j = s.left_join(n, s.setl_id == n.setl_id)
    j = j.mutate(actual=j.n.fill_null(0))
    bad = j.filter(j[field].notnull() & (j[field] != j.actual))
    return out(bad, field, bad[field], bad.actual)


@logic("diag_count_mismatch")
def diag_count_mismatch(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    return _count_mismatch(q, "diseinfo", "diag_code_cnt")


@logic("oprn_count_mismatch")
def oprn_count_mismatch(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    return _count_mismatch(q, "oprninfo", "oprn_oprt_code_cnt")


@logic("no_main_oprn")
def no_main_oprn(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    o = q.oprninfo
    agg = o.group_by("setl_id").aggregate(
        n=o.count(), main=(o.main_oprn_flag == "1").cast("int32").sum()
    )
    bad = agg.filter(agg.main == 0)
    return out(bad, "main_oprn_flag", ibis.null("string"), bad.n)


@logic("multiple_main_oprn")
def multiple_main_oprn(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    o = q.oprninfo
    m = o.filter(o.main_oprn_flag == "1")
    agg = m.group_by("setl_id").aggregate(n=m.count(), codes=m.oprn_oprt_code.group_concat(","))
    bad = agg.filter(agg.n > 1)
    return out(bad, "main_oprn_flag", bad.codes, bad.n)


@logic("main_oprn_not_first")
def main_oprn_not_first(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    o = q.oprninfo
    bad = o.filter((o.main_oprn_flag == "1") & (o.oprn_srt_no != 1))
    return out(bad, "oprn_srt_no", bad.oprn_srt_no, bad.oprn_oprt_code)


@logic("medins_unknown")
def medins_unknown(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    s = q.setl_list
    m = q.medins
    bad = s.anti_join(m, "medins_code").filter(not_empty(m))
    return out(bad, "medins_code", bad.medins_code)


def _payable(q: QcInputs) -> ir.Table:
    r = q.drg_result
    return r.filter(r.scheme == q.payment_scheme)


def _in_scope(q: QcInputs) -> ir.Table:
    # A case without a case_scope row counts as in scope (scope not run yet).
    s = q.setl_list.select("setl_id")
    c = q.case_scope
    out_of_scope = c.filter(~c.in_scope).select("setl_id")
    return s.anti_join(out_of_scope, "setl_id")


@logic("not_grouped")
def not_grouped(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    r = _payable(q)
    j = r.semi_join(_in_scope(q), "setl_id")
    bad = j.filter(j.status != "SUCCESS")
    return out(bad, "drg", bad.status, bad.drg)


@logic("group_result_missing")
def group_result_missing(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    r = _payable(q)
    bad = _in_scope(q).anti_join(r, "setl_id").filter(not_empty(r))
    return out(bad, "drg", ibis.null("string"))
