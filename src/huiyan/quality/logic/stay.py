"""Times and durations against the stay: admission ≤ discharge, events inside the stay, LOS."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ibis

from huiyan.quality.logic._util import hours, out
from huiyan.quality.logic.registry import logic

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.quality.inputs import QcInputs


@logic("adm_after_dscg")
def adm_after_dscg(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    s = q.setl_list
    return out(s.filter(s.adm_time > s.dscg_time), "adm_time", s.adm_time, s.dscg_time)


@logic("act_days_mismatch")
def act_days_mismatch(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    s = q.setl_list
    st = q.stay
    j = s.join(st.select("setl_id", "los"), "setl_id")
    bad = j.filter(
        j.act_ipt_days.notnull() & (j.act_ipt_days != j.los) & (j.adm_time <= j.dscg_time)
    )
    return out(bad, "act_ipt_days", bad.act_ipt_days, bad.los)


@logic("stay_too_long")
def stay_too_long(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    st = q.stay
    return out(st.filter(st.los > p["max_los_days"]), "dscg_time", st.los)


@logic("nursing_days_exceed")
def nursing_days_exceed(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    s = q.setl_list.join(q.stay.select("setl_id", "los"), "setl_id")
    total = (
        s.spga_nurscare_days.fill_null(0)
        + s.lv1_nurscare_days.fill_null(0)
        + s.scd_nurscare_days.fill_null(0)
        + s.lv3_nurscare_days.fill_null(0)
    )
    s = s.mutate(total=total)
    bad = s.filter(s.total > s.los + p["nursing_days_tolerance"])
    return out(bad, "lv1_nurscare_days", bad.total, bad.los)


@logic("nursing_days_vs_billed")
def nursing_days_vs_billed(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    """Per nursing grade filled on the list: its days against the net days billed for it.

    Judged only for settlements billing nursing of some grade: fee details without any nursing
    line are more likely incomplete (or nursing billed inside a bundle) than wrongly listed.
    """
    f = q.net_fee
    grades = p["grades"]
    nursing = f.filter(ibis.or_(*(f.med_list_codg.startswith(x) for x in grades.values())))
    nursed = q.setl_list.semi_join(nursing, q.setl_list.setl_id == nursing.setl_id)
    parts = []
    for field, prefix in grades.items():
        lines = nursing.filter(nursing.med_list_codg.startswith(prefix))
        billed = lines.group_by(b_setl="setl_id").aggregate(billed=lines.cnt.sum())
        s = nursed.filter(nursed[field].notnull())
        j = s.left_join(billed, s.setl_id == billed.b_setl)
        j = j.mutate(listed=j[field], billed=j.billed.fill_null(0))
        bad = j.filter((j.listed - j.billed).abs() > p["tolerance_days"])
        parts.append(out(bad, field, bad.listed, bad.billed))
    return ibis.union(*parts)


def _within(t: ir.Table, col: str, *, by_day: bool = False) -> ir.BooleanValue:
    v = t[col]
    if by_day:
        return (v >= t.adm_time.date()) & (v <= t.dscg_time.date())
    return (v >= t.adm_time) & (v <= t.dscg_time)


def _outside(q: QcInputs, table: str, cols: tuple[str, ...], *, by_day: bool = False) -> ir.Table:
    """Rows of ``table`` where any of ``cols`` (when filled) falls outside the stay."""
    t = q.tables[table]
    st = q.stay.select("setl_id", "adm_time", "dscg_time")
    j = t.join(st, "setl_id")
    parts = []
    for c in cols:
        bad = j.filter(j[c].notnull() & ~_within(j, c, by_day=by_day))
        window = bad.adm_time.cast("string").concat(" ~ ", bad.dscg_time.cast("string"))
        parts.append(out(bad, c, bad[c], window))
    return ibis.union(*parts)


@logic("icu_outside_stay")
def icu_outside_stay(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    return _outside(q, "icuinfo", ("scs_cutd_inpool_time", "scs_cutd_exit_time"))


@logic("icu_exit_before_entry")
def icu_exit_before_entry(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    i = q.icuinfo
    bad = i.filter(i.scs_cutd_exit_time < i.scs_cutd_inpool_time)
    return out(bad, "scs_cutd_exit_time", bad.scs_cutd_exit_time, bad.scs_cutd_inpool_time)


@logic("icu_duration_exceeds_stay")
def icu_duration_exceeds_stay(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    i = q.icuinfo
    per = i.group_by("setl_id").aggregate(icu=i.scs_cutd_sum_dura.sum())
    j = per.join(q.stay.select("setl_id", "stay_hours"), "setl_id")
    bad = j.filter(j.icu > j.stay_hours + p["duration_tolerance_hours"])
    return out(bad, "scs_cutd_sum_dura", bad.icu, bad.stay_hours.round(1))


@logic("icu_duration_mismatch")
def icu_duration_mismatch(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    i = q.icuinfo
    span = hours(i.scs_cutd_exit_time, i.scs_cutd_inpool_time)
    bad = i.filter((i.scs_cutd_sum_dura - span).abs() > p["duration_tolerance_hours"])
    return out(bad, "scs_cutd_sum_dura", bad.scs_cutd_sum_dura, span.round(1))


@logic("vent_exceeds_stay")
def vent_exceeds_stay(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    s = q.setl_list.join(q.stay.select("setl_id", "stay_hours"), "setl_id")
    bad = s.filter(s.vent_used_dura > s.stay_hours + p["duration_tolerance_hours"])
    return out(bad, "vent_used_dura", bad.vent_used_dura, bad.stay_hours.round(1))


def _vent_cases(q: QcInputs) -> ir.Table:
    o = q.oprninfo
    prefixes = list(q.refs_codes("ventilation_procedures"))
    cond = ibis.or_(*[o.oprn_oprt_code.startswith(x) for x in prefixes])
    return o.filter(cond).select("setl_id").distinct()


@logic("vent_without_procedure")
def vent_without_procedure(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    s = q.setl_list
    hrs = s.filter(s.vent_used_dura > 0)
    bad = hrs.anti_join(_vent_cases(q), "setl_id")
    return out(bad, "vent_used_dura", bad.vent_used_dura)


@logic("vent_procedure_without_hours")
def vent_procedure_without_hours(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    s = q.setl_list
    j = s.semi_join(_vent_cases(q), "setl_id")
    bad = j.filter(j.vent_used_dura.isnull() | (j.vent_used_dura <= 0))
    return out(bad, "vent_used_dura", bad.vent_used_dura)


@logic("oprn_outside_stay")
def oprn_outside_stay(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    return _outside(q, "oprninfo", ("oprn_oprt_begntime", "oprn_oprt_endtime"))


@logic("oprn_date_outside_stay")
def oprn_date_outside_stay(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    return _outside(q, "oprninfo", ("oprn_oprt_date",), by_day=True)


@logic("anst_outside_stay")
def anst_outside_stay(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    return _outside(q, "oprninfo", ("anst_begntime", "anst_endtime"))


def _reversed(q: QcInputs, table: str, begin: str, end: str) -> ir.Table:
    t = q.tables[table]
    bad = t.filter(t[end] < t[begin])
    return out(bad, end, bad[end], bad[begin])


@logic("oprn_end_before_begin")
def oprn_end_before_begin(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    return _reversed(q, "oprninfo", "oprn_oprt_begntime", "oprn_oprt_endtime")


@logic("anst_end_before_begin")
def anst_end_before_begin(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    return _reversed(q, "oprninfo", "anst_begntime", "anst_endtime")


@logic("setl_period_reversed")
def setl_period_reversed(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    return _reversed(q, "setl_list", "setl_begn_date", "setl_end_date")


@logic("setl_period_outside_stay")
def setl_period_outside_stay(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    return _outside(q, "setl_list", ("setl_begn_date", "setl_end_date"), by_day=True)


@logic("setl_before_dscg")
def setl_before_dscg(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    s = q.setl_list
    bad = s.filter(s.setl_time.date() < s.dscg_time.date())
    return out(bad, "setl_time", bad.setl_time, bad.dscg_time)


@logic("fee_outside_stay")
def fee_outside_stay(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    f = q.net_fee
    d = f.fee_ocur_time.date()
    bad = f.filter((d < f.adm_time.date()) | (d > f.dscg_time.date()))
    first = bad.group_by("setl_id").aggregate(value=bad.fee_ocur_time.min(), n=bad.count())
    return out(first, "fee_ocur_time", first.value, first.n)


@logic("bed_days_exceed")
def bed_days_exceed(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    f = q.net_fee
    bed = f.filter(f.med_chrgitm_type == "01")
    per = bed.group_by(["setl_id", "los"]).aggregate(days=bed.cnt.sum())
    bad = per.filter(per.days > per.los + p["bed_days_tolerance"])
    return out(bad, "med_chrgitm_type", bad.days, bad.los)


@logic("death_then_admission")
def death_then_admission(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    s = q.setl_list
    dead = s.filter(s.dscg_way == "5").select("setl_id", "psn_no", "dscg_time")
    later = s.select(psn=s.psn_no, later_id=s.setl_id, later_adm=s.adm_time)
    j = dead.join(later, (dead.psn_no == later.psn) & (later.later_adm > dead.dscg_time))
    return out(j, "dscg_way", j.dscg_time, j.later_id)


@logic("death_with_readmission_plan")
def death_with_readmission_plan(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    s = q.setl_list
    bad = s.filter((s.dscg_way == "5") & (s.days_rinp_flag_31 == "2"))
    return out(bad, "days_rinp_flag_31", bad.days_rinp_flag_31)


@logic("death_then_fee")
def death_then_fee(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    f = q.net_fee
    dead = q.stay.filter(q.stay.dscg_way == "5").select("setl_id")
    j = f.semi_join(dead, "setl_id")
    bad = j.filter(j.fee_ocur_time > j.dscg_time)
    agg = bad.group_by("setl_id").aggregate(value=bad.fee_ocur_time.min(), n=bad.count())
    return out(agg, "fee_ocur_time", agg.value, agg.n)


@logic("death_then_procedure")
def death_then_procedure(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    o = q.oprninfo
    dead = q.stay.filter(q.stay.dscg_way == "5").select("setl_id", "dscg_time")
    j = o.join(dead, "setl_id")
    bad = j.filter(j.oprn_oprt_begntime > j.dscg_time)
    return out(bad, "oprn_oprt_begntime", bad.oprn_oprt_begntime, bad.dscg_time)
