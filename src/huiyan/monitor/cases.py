"""The case base of monitoring: one row per inpatient settlement with every per-case quantity the
indicators sum (Ibis, so the same expression runs on every engine).

Group norms (mean cost and LOS per DRG) and the low-risk groups are derived from the region's own
data, as the national performance method does (docs/domain-reference.md §5): norms over all grouped
cases of the data, low-risk groups from ln(group mortality) below mean − 1 SD over the groups
with deaths, plus groups without deaths when configured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ibis
import pyarrow as pa

from huiyan.model.domain import settled_findings

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.engine import Engine

DRUG_TYPES = ("09", "10", "11")  # 西药费, 中药饮片费, 中成药费 (med_chrgitm_type)
CONSUMABLE_TYPES = ("08",)  # 卫生材料费
STORE_TABLES = ("setl_list", "medins", "drg_result", "payment", "feedetail", "finding")
OPTIONAL_TABLES = ("mz_setl",)


@dataclass
class MonitorInputs:
    """The tables monitoring reads, as Ibis tables on one backend; optional ones may be None."""

    setl_list: ir.Table
    medins: ir.Table
    drg_result: ir.Table
    payment: ir.Table
    feedetail: ir.Table
    finding: ir.Table
    payment_scheme: str
    review: ir.Table | None = None
    mz_setl: ir.Table | None = None


def store_inputs(
    store: Engine, config: dict[str, dict[str, Any]], decided: pa.Table | None = None
) -> MonitorInputs:
    """Bind the stored tables. ``decided``: the review workflow's final deductions
    (``setl_id, vola_amt``), when the caller has them."""
    tables = {name: store.table(name) for name in STORE_TABLES}
    tables["finding"] = settled_findings(tables["finding"])
    optional = {name: store.table(name) if store.count(name) else None for name in OPTIONAL_TABLES}
    review = None
    if decided is not None:
        review = store.register("_monitor_review", decided.select(["setl_id", "vola_amt"]))
    return MonitorInputs(
        **tables, **optional, review=review, payment_scheme=config["grouping"]["payment_scheme"]
    )


def _f(cond: ir.BooleanValue) -> ir.IntegerValue:
    return ibis.ifelse(cond, 1, 0).cast("int64")


def _money(col: ir.Value) -> ir.FloatingValue:
    return col.cast("float64").fill_null(0.0)


def exact_float(x: ir.DecimalValue) -> ir.FloatingValue:
    """The DOUBLE nearest to an exact DECIMAL, the same on every engine: read from its decimal
    text, which every engine parses with correct rounding. A direct cast is not correctly
    rounded on the local engine once the unscaled value passes 2^53 (a DECIMAL(38, 12) sum of
    15694.38 became 15694.380000000001, the distributed engine's 15694.38)."""
    return x.cast("string").cast("float64")


def _money_sum(col: ir.Value, where: ir.BooleanValue | None = None) -> ir.FloatingValue:
    """Sum of amounts in exact DECIMAL, then a float: a DOUBLE sum depends on the order the rows
    arrive in (its last bits differ between runs and with shuffled input), and the same data
    must give the same indicator table."""
    x = col.cast("decimal(38, 2)")
    if where is not None:
        x = ibis.ifelse(where, x, ibis.null("decimal(38, 2)"))
    return exact_float(x.sum()).fill_null(0.0)


def confirmed_amounts(inp: MonitorInputs) -> tuple[ir.Table, str]:
    """Per settlement: the amount confirmed as a violation, and where it was read from.

    With the review workflow's final decisions (``setl_id, vola_amt``: confirmed and partially
    confirmed amounts), those; without them, the findings marked 明确违规 (sev_deg 1).
    """
    f = inp.finding
    if inp.review is not None:
        r = inp.review
        per = r.group_by("setl_id").aggregate(confirmed_amt=_money_sum(r.vola_amt))
        return per, "review"
    per = f.group_by("setl_id").aggregate(confirmed_amt=_money_sum(f.vola_amt, f.sev_deg == "1"))
    return per, "findings"


def case_base(inp: MonitorInputs, cfg: dict[str, Any]) -> ir.Table:
    """One row per settlement with subjects, periods, flags and amounts (see module docstring)."""
    s = inp.setl_list
    m = inp.medins.select(
        "medins_code",
        peer_group=inp.medins.medins_lv.fill_null("?")
        + "-"
        + inp.medins.medins_type.fill_null("?"),
        medins_lv=inp.medins.medins_lv,
    )
    r = inp.drg_result
    r = (
        r.filter(r.scheme == inp.payment_scheme)
        .select("setl_id", "drg", "status", r_id=r.setl_id)
        .drop("setl_id")
    )
    p = inp.payment
    p = p.filter(p.method == "DRG").select(
        p_id=p.setl_id,
        weight=p.weight_or_score,
        case_type=p.case_type,
        standard_payment=_money(p.standard_payment),
    )
    fee = inp.feedetail
    lines = fee.group_by(fee_mdtrt=fee.mdtrt_id).aggregate(
        drug_amt=_money_sum(fee.det_item_fee_sumamt, fee.med_chrgitm_type.isin(DRUG_TYPES)),
        consumable_amt=_money_sum(
            fee.det_item_fee_sumamt, fee.med_chrgitm_type.isin(CONSUMABLE_TYPES)
        ),
        fee_amt=_money_sum(fee.det_item_fee_sumamt),
    )
    f = inp.finding
    found = f.group_by(f_id=f.setl_id).aggregate(
        findings=f.count(), finding_amt=_money_sum(f.vola_amt)
    )
    conf, _ = confirmed_amounts(inp)
    conf = conf.select(c_id=conf.setl_id, confirmed_amt=conf.confirmed_amt)

    adm_day = s.adm_time.date()
    dscg_day = s.dscg_time.date()
    c = (
        s.left_join(m, s.medins_code == m.medins_code)
        .left_join(r, s.setl_id == r.r_id)
        .left_join(p, s.setl_id == p.p_id)
        .left_join(lines, s.mdtrt_id == lines.fee_mdtrt)
        .left_join(found, s.setl_id == found.f_id)
        .left_join(conf, s.setl_id == conf.c_id)
    )
    los = (dscg_day.epoch_days() - adm_day.epoch_days()).cast("int64")
    cost = _money(c.medfee_sumamt)
    fund = _money(c.fund_pay_sumamt)
    grouped = c.status == "SUCCESS"
    c = c.select(
        "setl_id",
        "psn_no",
        medins_code=s.medins_code,
        dept=s.medins_code + "/" + s.dscg_caty.fill_null("未填"),
        caty=s.dscg_caty.fill_null("未填"),
        doctor=s.medins_code + "/" + s.chfpdr_code.fill_null("未填"),
        peer_group=c.peer_group.fill_null("?-?"),
        medins_lv=c.medins_lv.fill_null("?"),
        adm_day=adm_day,
        dscg_day=dscg_day,
        month=s.dscg_time.strftime("%Y-%m"),
        quarter=s.dscg_time.year().cast("string") + "-Q" + s.dscg_time.quarter().cast("string"),
        year=s.dscg_time.year().cast("string"),
        los=ibis.greatest(los, 1),
        cost=cost,
        fund=fund,
        ownpay=_money(c.ownpay_amt),
        dead=_f(s.dscg_way == "5"),
        transfer=_f(s.dscg_way.isin(["2", "3"])),
        planned=_f(s.days_rinp_flag_31 == "2"),
        drg=ibis.ifelse(grouped, c.drg, ibis.null("string")),
        grouped=_f(grouped),
        qy=_f(c.status == "QY"),
        weight=ibis.ifelse(grouped, c.weight.cast("float64"), ibis.null("float64")),
        high=_f(c.case_type.isin(["high", "extreme_high"])),
        low=_f(c.case_type == "low"),
        mcc_cc=_f(grouped & c.drg.right(1).isin(["1", "3"])),
        # CHS-DRG ADRG letters A-J after the MDC letter are surgical (operating-room) groups.
        surgical=_f(grouped & c.drg.substr(1, 1).isin(list("ABCDEFGHIJ"))),
        standard_payment=c.standard_payment.fill_null(0.0),
        drug_amt=c.drug_amt.fill_null(0.0),
        consumable_amt=c.consumable_amt.fill_null(0.0),
        fee_amt=c.fee_amt.fill_null(0.0),
        findings=c.findings.fill_null(0),
        finding_amt=c.finding_amt.fill_null(0.0),
        confirmed_amt=c.confirmed_amt.fill_null(0.0),
    )
    c = _with_readmission(c, cfg)
    c = _with_norms(c, cfg)
    if inp.mz_setl is not None:
        c = _with_outpatient(c, inp.mz_setl, cfg)
    return c


def _with_outpatient(c: ir.Table, mz: ir.Table, cfg: dict[str, Any]) -> ir.Table:
    """Outpatient spending of the same person in the days before admission and after discharge."""
    before, after = cfg["cost_shift"]["days_before"], cfg["cost_shift"]["days_after"]
    o = mz.select(o_psn=mz.psn_no, o_day=mz.setl_time.date().epoch_days(), o_amt=mz.medfee_sumamt)
    k = c.select(
        k_id=c.setl_id, k_psn=c.psn_no, a=c.adm_day.epoch_days(), d=c.dscg_day.epoch_days()
    )
    j = k.inner_join(
        o,
        [
            k.k_psn == o.o_psn,
            o.o_day >= k.a - before,
            o.o_day <= k.d + after,
        ],
    )
    per = j.group_by("k_id").aggregate(
        pre_op=_money_sum(j.o_amt, j.o_day < j.a),
        post_op=_money_sum(j.o_amt, j.o_day > j.d),
    )
    out = c.left_join(per, c.setl_id == per.k_id).drop("k_id")
    return out.mutate(pre_op=out.pre_op.fill_null(0.0), post_op=out.post_op.fill_null(0.0))


def _with_readmission(c: ir.Table, cfg: dict[str, Any]) -> ir.Table:
    """Days from discharge to the same person's next admission (same institution if configured)."""
    keys = ["psn_no", "medins_code"] if cfg["readmission"]["same_institution"] else ["psn_no"]
    w = ibis.window(group_by=keys, order_by=[c.adm_day, c.setl_id])
    nxt = c.adm_day.lead().over(w)
    gap = nxt.epoch_days() - c.dscg_day.epoch_days()
    # Planned readmissions (days_rinp_flag_31 = 2) and transfers out are not unplanned returns.
    eligible = (c.planned == 0) & (c.transfer == 0)
    out = {
        f"readmit_{d}": _f(eligible & gap.notnull() & (gap >= 0) & (gap <= d))
        for d in cfg["readmission"]["windows"]
    }
    return c.mutate(**out)


def _with_norms(c: ir.Table, cfg: dict[str, Any]) -> ir.Table:
    g = c.filter(c.grouped == 1)
    # Means as exact sums divided once, in DOUBLE: a DOUBLE mean depends on the order of the
    # rows, and the mean of a DECIMAL is a DOUBLE on the local engine but a DECIMAL(38, 6)
    # (rounded) on the distributed one, which gave cost ratios (and cost_index) that differed in
    # their last bits.
    norms = g.group_by(n_drg="drg").aggregate(
        n_cases=g.count(),
        cost_sum=g.cost.cast("decimal(38, 2)").sum(),
        los_sum=g.los.sum(),
        deaths=g.dead.sum(),
    )
    norms = norms.mutate(
        norm_cost=exact_float(norms.cost_sum) / norms.n_cases,
        norm_los=norms.los_sum.cast("float64") / norms.n_cases,
        ln_m=(norms.deaths.cast("float64") / norms.n_cases).ln(),
    )
    lr = cfg["low_risk"]
    with_deaths = norms.filter((norms.deaths > 0) & (norms.n_cases >= lr["min_group_cases"]))
    stats = with_deaths.aggregate(mu=with_deaths.ln_m.mean(), sigma=with_deaths.ln_m.std())
    norms = norms.cross_join(stats)
    low = (norms.n_cases >= lr["min_group_cases"]) & (
        ((norms.deaths > 0) & (norms.ln_m < norms.mu - norms.sigma.fill_null(0.0)))
        | ((norms.deaths == 0) & ibis.literal(bool(lr["zero_death_groups"])))
    )
    norms = norms.select("n_drg", "norm_cost", "norm_los", low_risk=_f(low))
    j = c.left_join(norms, c.drg == norms.n_drg).drop("n_drg")
    ls = cfg["low_standard"]
    has_norm = j.norm_cost.notnull() & (j.norm_cost > 0)
    return j.mutate(
        cost_ratio=ibis.ifelse(has_norm, j.cost / j.norm_cost, ibis.null("float64")),
        los_ratio=ibis.ifelse(
            j.norm_los.notnull() & (j.norm_los > 0),
            j.los.cast("float64") / j.norm_los,
            ibis.null("float64"),
        ),
        low_risk=j.low_risk.fill_null(0),
        low_risk_death=_f((j.low_risk == 1) & (j.dead == 1)),
        low_standard=_f(
            has_norm
            & (j.los <= ls["max_los"])
            & (j.cost < ls["cost_ratio"] * j.norm_cost)
            & (j.dead == 0)
            & (j.transfer == 0)
        ),
        long_stay=_f(j.los > cfg["long_stay_days"]),
    )
