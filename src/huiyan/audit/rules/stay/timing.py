"""Charges outside the stay (fake treatment) and days without presence (bed-hanging)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from huiyan.audit.helpers import item_label, line_hits, with_case, yuan_zero
from huiyan.audit.spec import SEVERITY_SUSPICIOUS, SEVERITY_VIOLATION, Params, preset, rule

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.audit.inputs import RuleInputs

FAKE_EVID = "《医疗保障基金使用监督管理条例》第四十条(虚构医药服务); 住院期间以外不得发生住院费用"

# Charges outside the stay: known once the stay has dates, the lines' amount.
fake_rule = preset(
    vola_bhvr_type="FAKE",
    stages=("in", "post"),
    amount="line",
    vola_evid=FAKE_EVID,
    template="{hits}",
)


def _outside(hit: ir.Table, bound: str, at: ir.TimestampValue) -> ir.Table:
    """Hit rows naming each line, when it was charged and the stay's bound it lies beyond."""
    text = item_label(hit) + " 发生于" + hit.fee_ocur_time.cast("string") + ", " + bound
    return line_hits(hit, hit.amt, text + at.cast("string"))


@fake_rule(
    id="FAKE-001", name="出院后仍有收费", sev_deg=SEVERITY_VIOLATION, params={"grace_hours": int}
)
def after_discharge(t: RuleInputs, p: Params) -> ir.Table:
    """Charges after the patient was discharged.

    Policy: inpatient charges occur inside the stay (条例 Art. 40 fabricated services); on the
    discharge day only discharge medication (``dscg_tkdrug_flag`` 1) may follow the discharge
    (docs/domain-reference.md §4.4); ``grace_hours`` tolerates charges entered just after it ([⚙]).
    Flags: net lines on a calendar day after the discharge day, and net lines of the discharge
    day more than ``grace_hours`` after ``dscg_time`` that are not discharge medication
    (line amount).
    Does not flag: discharge medication on the discharge day; deaths on the day of death
    (FAKE-003).
    """
    c = with_case(t.lines, t.case, "dscg_day", "dscg_sec", "dscg_way", "dscg_time")
    same_day_late = (
        (c.fee_day == c.c_dscg_day)
        & (c.fee_sec > c.c_dscg_sec + int(p["grace_hours"]) * 3600)
        & (c.dscg_tkdrug_flag.fill_null("0") != "1")
        & (c.c_dscg_way.fill_null("") != "5")
    )
    hit = c.filter((c.fee_day > c.c_dscg_day) | same_day_late)
    return _outside(hit, "出院时间", hit.c_dscg_time)


@fake_rule(
    id="FAKE-002",
    name="入院前发生住院收费",
    sev_deg=SEVERITY_SUSPICIOUS,
    params={"grace_hours": int},
)
def before_admission(t: RuleInputs, p: Params) -> ir.Table:
    """Charges dated before admission, beyond a grace period.

    Policy: inpatient charges start at admission; emergency work-up just before admission is
    tolerated for ``grace_hours`` (docs/domain-reference.md §4.4, [⚙] 0–24 h).
    Flags: net lines more than ``grace_hours`` before ``adm_time`` (line amount).
    """
    c = with_case(t.lines, t.case, "adm_sec", "adm_time")
    hit = c.filter(c.fee_sec < c.c_adm_sec - int(p["grace_hours"]) * 3600)
    return _outside(hit, "入院时间", hit.c_adm_time)


@fake_rule(
    id="FAKE-003", name="死亡后仍有收费", sev_deg=SEVERITY_VIOLATION, params={"grace_hours": int}
)
def after_death(t: RuleInputs, p: Params) -> ir.Table:
    """Charges after the time of death on the day of death.

    Policy: no service can be given after death (条例 Art. 40).
    Flags: net lines of cases with ``dscg_way`` 5 dated more than ``grace_hours`` after
    ``dscg_time`` on the discharge day (later days are FAKE-001); amount = those lines.
    """
    c = with_case(t.lines, t.case, "dscg_sec", "dscg_day", "dscg_way", "dscg_time")
    hit = c.filter(
        (c.c_dscg_way == "5")
        & (c.fee_day == c.c_dscg_day)
        & (c.fee_sec > c.c_dscg_sec + int(p["grace_hours"]) * 3600)
    )
    return _outside(hit, "死亡时间", hit.c_dscg_time)


@rule(
    id="BEDHANG-001",
    name="连续多日仅收床位费无在院诊疗痕迹",
    vola_bhvr_type="BEDHANG",
    sev_deg=SEVERITY_SUSPICIOUS,
    stages=("post",),
    amount="line",
    vola_evid="《医疗保障基金使用监督管理条例》第三十八条(挂床住院)",
    template="{hits}",
    params={"bed_chrgitm_types": list, "min_days": int},
)
def bed_only_days(t: RuleInputs, p: Params) -> ir.Table:
    """At least ``min_days`` consecutive days in the stay with a bed fee and nothing else.

    Policy: 挂床住院 is a registered inpatient who is not there (条例 Art. 38, docs/domain-reference.md
    §4.6, [⚙] ≥ 3 days). A day that bills nursing care, a ward round (consultation), a drug, an
    exam or any treatment shows the patient present; only a day whose every net line is a bed
    fee (``bed_chrgitm_types``) shows no presence at all.
    Flags: each run of at least ``min_days`` consecutive calendar days, strictly between the
    admission and discharge days, whose net lines are all bed fees; amount = those bed fees.
    Does not flag (legitimate look-alikes): quiet recovery or observation days with bed,
    nursing and a ward round but no drug or exam (the patient is being cared for); waiting days
    before a transfer that still bill nursing; days without any line; the admission and
    discharge days.
    """
    import ibis

    c = with_case(t.lines, t.case, "adm_day", "dscg_day")
    c = c.filter((c.fee_day > c.c_adm_day) & (c.fee_day < c.c_dscg_day))
    bed = c.chrgitm_type.isin(tuple(p["bed_chrgitm_types"]))
    days = c.group_by(["setl_id", "fee_day"]).aggregate(
        other=(~bed).cast("int32").sum(),
        amt=c.amt.sum(),
        day_text=c.fee_ocur_time.date().cast("string").min(),
    )
    empty = days.filter(days.other == 0)
    w = ibis.window(group_by=empty.setl_id, order_by=empty.fee_day)
    runs = empty.mutate(run=empty.fee_day - ibis.row_number().over(w))
    g = runs.group_by(["setl_id", "run"]).aggregate(
        n=runs.fee_day.count(), start=runs.day_text.min(), amt=runs.amt.sum()
    )
    hit = g.filter(g.n >= int(p["min_days"]))
    # ISO dates as text: the smallest is the first day, on every engine.
    text = hit.start + "起连续" + hit.n.cast("string") + "天仅收床位费, 无护理、查房、用药及检查"
    hit_days = runs.join(hit.select("setl_id", "run", text=text), ["setl_id", "run"])
    # The finding names the bed lines of those days; their amounts sum to the days' charges.
    lines = c.join(hit_days.select("setl_id", "fee_day", "text"), ["setl_id", "fee_day"])
    return line_hits(lines, lines.amt, lines.text)


@rule(
    id="FAKE-004",
    name="同一参保人住院时间在两家机构重叠",
    vola_bhvr_type="FAKE",
    sev_deg=SEVERITY_SUSPICIOUS,
    stages=("post",),
    amount="fund_pay",
    vola_evid=FAKE_EVID + "; 同一时间不能在两家医疗机构住院",
    template="{hits}",
    params={"min_overlap_hours": float},
)
def overlapping_stays(t: RuleInputs, p: Params) -> ir.Table:
    """One person in hospital at two institutions at the same time.

    Policy: a person can lie in one bed only (条例 Art. 40 fabricated services,
    docs/domain-reference.md §4.4 services outside presence); when two stays of one person at two
    hospitals overlap by more than ``min_overlap_hours``, the one admitted while the person
    was already an inpatient elsewhere cannot be real.
    Flags: the later-admitted stay of each overlapping pair (detail = the other settlement);
    amount = its fund payment.
    Does not flag (legitimate look-alikes): transfers, where the receiving hospital admits the
    patient within ``min_overlap_hours`` of the discharge (paperwork times differ by hours);
    newborns settled under the mother's insurance number (age 0 on either stay) and stays of
    a different sex (two people sharing one number); two settlements of one visit (mid-stay
    settlement, re-settlement after a correction: same ``mdtrt_id``); stays at one hospital.
    """
    cols = ("setl_id", "mdtrt_id", "psn_no", "medins_code", "gend", "age", "adm_sec", "dscg_sec")
    c = t.case.select(*cols, fund_pay=t.case.fund_pay, adm_time=t.case.adm_time)
    c = c.filter(c.age.fill_null(0) >= 1)
    a = c.rename(lambda n: f"a_{n}")
    b = c.rename(lambda n: f"b_{n}")
    slack = float(p["min_overlap_hours"]) * 3600
    j = a.join(
        b,
        (a.a_psn_no == b.b_psn_no)
        & (a.a_medins_code != b.b_medins_code)
        & (a.a_mdtrt_id != b.b_mdtrt_id)
        & (a.a_gend.fill_null("9") == b.b_gend.fill_null("9"))
        # b admitted while a was still in hospital (a earlier, ties by settlement id) ...
        & (
            (b.b_adm_sec > a.a_adm_sec)
            | ((b.b_adm_sec == a.a_adm_sec) & (b.b_setl_id > a.a_setl_id))
        )
        # ... for longer than the slack of a transfer.
        & (b.b_adm_sec + slack < a.a_dscg_sec),
    )
    text = (
        "入院时间"
        + j.b_adm_time.cast("string")
        + "时仍在"
        + j.a_medins_code
        + "住院(结算"
        + j.a_setl_id
        + "), 两次住院时间重叠"
    )
    return j.select(
        setl_id=j.b_setl_id, unit=j.a_setl_id, amount=j.b_fund_pay.fill_null(yuan_zero()), text=text
    )
