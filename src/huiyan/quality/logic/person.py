"""The person: age against birth date, newborn fields, sex-specific codes against ``gend``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ibis

from huiyan.quality.logic._util import out
from huiyan.quality.logic.registry import logic

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.quality.inputs import QcInputs


def _age_years(s: ir.Table) -> ir.IntegerValue:
    """Completed years between birth date and admission date."""
    adm, b = s.adm_time.date(), s.brdy
    before_birthday = (adm.month() < b.month()) | (
        (adm.month() == b.month()) & (adm.day() < b.day())
    )
    return adm.year() - b.year() - before_birthday.cast("int32")


@logic("brdy_after_adm")
def brdy_after_adm(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    s = q.setl_list
    bad = s.filter(s.brdy > s.adm_time.date())
    return out(bad, "brdy", bad.brdy, bad.adm_time)


@logic("age_mismatch")
def age_mismatch(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    s = q.setl_list
    s = s.mutate(expected=_age_years(s))
    bad = s.filter(s.age.notnull() & s.brdy.notnull() & (s.age != s.expected) & (s.expected >= 0))
    return out(bad, "age", bad.age, bad.expected)


def _infant(s: ir.Table) -> ir.BooleanValue:
    # Age in completed years when given; the birth date decides when age is missing.
    return ibis.coalesce(s.age, _age_years(s)) < 1


@logic("infant_without_nwb_age")
def infant_without_nwb_age(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    s = q.setl_list
    bad = s.filter(_infant(s) & s.nwb_age_days.isnull())
    return out(bad, "nwb_age_days", bad.nwb_age_days, bad.age)


@logic("nwb_age_on_non_infant")
def nwb_age_on_non_infant(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    s = q.setl_list
    bad = s.filter(~_infant(s) & s.nwb_age_days.notnull())
    return out(bad, "nwb_age_days", bad.nwb_age_days, bad.age)


@logic("nwb_weight_on_non_infant")
def nwb_weight_on_non_infant(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    s = q.setl_list
    bad = s.filter(~_infant(s) & (s.nwb_bir_wt.notnull() | s.nwb_adm_wt.notnull()))
    return out(bad, "nwb_bir_wt", ibis.coalesce(bad.nwb_bir_wt, bad.nwb_adm_wt), bad.age)


def _newborn(s: ir.Table, p: dict[str, Any]) -> ir.BooleanValue:
    return s.nwb_age_days.notnull() & (s.nwb_age_days <= p["newborn_weight_max_days"])


@logic("newborn_without_birth_weight")
def newborn_without_birth_weight(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    s = q.setl_list
    bad = s.filter(_newborn(s, p) & s.nwb_bir_wt.isnull())
    return out(bad, "nwb_bir_wt", bad.nwb_bir_wt, bad.nwb_age_days)


@logic("newborn_without_adm_weight")
def newborn_without_adm_weight(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    s = q.setl_list
    bad = s.filter(_newborn(s, p) & s.nwb_adm_wt.isnull())
    return out(bad, "nwb_adm_wt", bad.nwb_adm_wt, bad.nwb_age_days)


@logic("nwb_age_days_mismatch")
def nwb_age_days_mismatch(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    s = q.setl_list
    s = s.mutate(expected=s.adm_time.date().delta(s.brdy, unit="day"))
    bad = s.filter(
        s.nwb_age_days.notnull()
        & s.brdy.notnull()
        & ((s.nwb_age_days - s.expected).abs() > p["nwb_age_days_tolerance"])
    )
    return out(bad, "nwb_age_days", bad.nwb_age_days, bad.expected)


@logic("newborn_dx_without_nwb_fields")
def newborn_dx_without_nwb_fields(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    # A perinatal (P00–P96) or liveborn (Z38) principal diagnosis is an MDCP case: the grouper
    # needs the newborn's age in days and weights.
    pr = q.principal
    code = pr.diag_code
    mdcp = pr.filter(code.startswith("P") | code.startswith("Z38")).select("setl_id", "diag_code")
    s = q.setl_list
    j = s.join(mdcp, "setl_id")
    bad = j.filter(j.nwb_age_days.isnull() | j.nwb_bir_wt.isnull())
    return out(bad, "nwb_age_days", bad.nwb_age_days, bad.diag_code)


def _sex_conflicts(q: QcInputs, kind: str, table: str, code_col: str) -> ir.Table:
    ref = q.refs["sex_specific"]
    ref = ref.filter(ref.kind == kind)
    t = q.tables[table]
    s = q.setl_list.select("setl_id", "gend")
    j = t.join(s, "setl_id")
    j = j.join(ref, j[code_col].startswith(ref.prefix))
    bad = j.filter(j.gend.isin(["1", "2"]) & (j.gend != j.gend_right))
    return out(bad, code_col, bad[code_col], bad.gend.substitute({"1": "男", "2": "女"}))


@logic("sex_diag_conflict")
def sex_diag_conflict(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    return _sex_conflicts(q, "diag", "diseinfo", "diag_code")


@logic("sex_oprn_conflict")
def sex_oprn_conflict(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    return _sex_conflicts(q, "oprn", "oprninfo", "oprn_oprt_code")
