"""Front page (``medrcd``) against the settlement list: each difference with both values.

The front page of a settlement is found by ``medcasno`` (and ``medins_code`` when the front
page carries it). Settlements without a front page are one warning, not a cascade of diffs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ibis

from huiyan.quality.logic._util import not_empty, out
from huiyan.quality.logic.registry import logic

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.quality.inputs import QcInputs


def _linked(q: QcInputs) -> ir.Table:
    """Front-page rows with the ``setl_id`` of their settlement."""
    m = q.medrcd
    s = q.setl_list.select(
        sid=q.setl_list.setl_id, mc=q.setl_list.medcasno, mi=q.setl_list.medins_code
    )
    j = m.join(s, (m.medcasno == s.mc) & (m.medins_code.isnull() | (m.medins_code == s.mi)))
    return j.mutate(setl_id=j.sid)


def _fp_main(q: QcInputs, rec_type: str) -> ir.Table:
    m = _linked(q)
    m = m.filter((m.rec_type == rec_type) & (m.main_flag == "1"))
    return m.group_by("setl_id").aggregate(fp=m.code.min())


@logic("fp_missing")
def fp_missing(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    s = q.setl_list
    bad = s.anti_join(_linked(q).select("setl_id").distinct(), "setl_id").filter(
        not_empty(q.medrcd)
    )
    return out(bad, "medcasno", bad.medcasno)


@logic("fp_principal_diag_diff")
def fp_principal_diag_diff(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    fp = _fp_main(q, "diag")
    pr = q.principal
    lst = pr.group_by("setl_id").aggregate(code=pr.diag_code.min())
    j = fp.left_join(lst, fp.setl_id == lst.setl_id)
    bad = j.filter(j.code.isnull() | (j.code != j.fp))
    return out(bad.mutate(setl_id=bad.setl_id), "diag_code", bad.code, bad.fp)


@logic("fp_principal_oprn_diff")
def fp_principal_oprn_diff(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    fp = _fp_main(q, "oprn")
    o = q.oprninfo
    o = o.filter(o.main_oprn_flag == "1")
    lst = o.group_by("setl_id").aggregate(code=o.oprn_oprt_code.min())
    j = fp.left_join(lst, fp.setl_id == lst.setl_id)
    bad = j.filter(j.code.isnull() | (j.code != j.fp))
    return out(bad, "oprn_oprt_code", bad.code, bad.fp)


@logic("fp_secondary_count_diff")
def fp_secondary_count_diff(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    m = _linked(q)
    m = m.filter((m.rec_type == "diag") & (m.main_flag != "1"))
    fp = m.group_by("setl_id").aggregate(fp=m.count())
    d = q.diseinfo
    d = d.filter(d.maindiag_flag != "1")
    lst = d.group_by("setl_id").aggregate(n=d.count())
    linked = _linked(q).select("setl_id").distinct()
    base = linked.left_join(fp, "setl_id").select("setl_id", "fp")
    j = base.left_join(lst, base.setl_id == lst.setl_id).select(
        setl_id=base.setl_id, fp=base.fp.fill_null(0), n=lst.n.fill_null(0)
    )
    bad = j.filter(j.fp != j.n)
    return out(bad, "diag_code_cnt", bad.n, bad.fp)


@logic("fp_dscg_way_diff")
def fp_dscg_way_diff(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    m = _linked(q)
    m = m.filter(m.dscg_way.notnull())
    fp = m.group_by("setl_id").aggregate(fp=m.dscg_way.min())
    s = q.setl_list.select("setl_id", "dscg_way")
    j = s.join(fp, "setl_id")
    bad = j.filter(j.dscg_way.isnull() | (j.dscg_way != j.fp))
    return out(bad, "dscg_way", bad.dscg_way, bad.fp)


def _fp_not_on_list(q: QcInputs, rec_type: str, table: str, code_col: str) -> ir.Table:
    m = _linked(q)
    m = m.filter(m.rec_type == rec_type).select("setl_id", "code")
    t = q.tables[table]
    lst = t.select(sid=t.setl_id, c=t[code_col])
    bad = m.anti_join(lst, (m.setl_id == lst.sid) & (m.code == lst.c))
    return out(bad, code_col, ibis.null("string"), bad.code)


@logic("fp_diag_not_on_list")
def fp_diag_not_on_list(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    return _fp_not_on_list(q, "diag", "diseinfo", "diag_code")


@logic("fp_oprn_not_on_list")
def fp_oprn_not_on_list(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    return _fp_not_on_list(q, "oprn", "oprninfo", "oprn_oprt_code")
