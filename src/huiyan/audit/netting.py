"""Refund netting: the one place fee lines become net lines (docs/design.md §3 conventions).

A refund line has a negative ``cnt`` and ``init_feedetl_sn`` naming the line it reverses. Its
quantity and amount are added to that original line; a line netted to zero disappears, so a
refunded-and-recharged item counts once (the recharge). Refund lines whose original is not in
the visit are reversals of nothing the rules can see and are left out of the net lines (they
can only lower amounts; QC reports them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ibis.expr.types as ir

NET_COLUMNS = (
    "setl_id",
    "mdtrt_id",
    "feedetl_sn",
    "fee_ocur_time",
    "fee_day",
    "fee_sec",
    "code",
    "item_name",
    "chrgitm_type",
    "cnt",
    "pric",
    "amt",
    "dscg_tkdrug_flag",
)

# The model's types (``model.fields`` QTY and MONEY) as Ibis type strings.
QTY_TYPE = "decimal(18, 4)"
MONEY_TYPE = "decimal(16, 2)"


def net_lines(feedetail: ir.Table, setl_list: ir.Table) -> ir.Table:
    """One row per original line with its net quantity and amount (only lines with cnt > 0).

    ``fee_day`` is the calendar day as days since 1970-01-01 and ``fee_sec`` the time in epoch
    seconds, so windows are plain integer arithmetic on every engine.
    """
    import ibis

    f = feedetail
    is_refund = (f.cnt < 0) & f.init_feedetl_sn.notnull()
    refunds = (
        f.filter(is_refund)
        .group_by([f.mdtrt_id.name("r_mdtrt_id"), f.init_feedetl_sn.name("r_sn")])
        .aggregate(r_cnt=f.cnt.sum(), r_amt=f.det_item_fee_sumamt.sum())
    )
    orig = f.filter(~is_refund)
    joined = orig.left_join(
        refunds,
        [orig.mdtrt_id == refunds.r_mdtrt_id, orig.feedetl_sn == refunds.r_sn],
    )
    # Quantities and amounts stay exact decimals: a refund nets its line to exactly zero.
    cnt = (joined.cnt + joined.r_cnt.fill_null(0)).cast(QTY_TYPE)
    amt = (joined.det_item_fee_sumamt + joined.r_amt.fill_null(0)).cast(MONEY_TYPE)
    lines = joined.select(
        mdtrt_id=joined.mdtrt_id,
        feedetl_sn=joined.feedetl_sn,
        fee_ocur_time=joined.fee_ocur_time,
        fee_day=joined.fee_ocur_time.date().epoch_days(),
        fee_sec=joined.fee_ocur_time.epoch_seconds(),
        code=joined.med_list_codg,
        item_name=joined.med_list_name,
        chrgitm_type=joined.med_chrgitm_type,
        cnt=cnt,
        pric=joined.pric,
        amt=amt,
        dscg_tkdrug_flag=joined.dscg_tkdrug_flag,
    ).filter(lambda t: t.cnt > 0)
    # One settlement per inpatient visit (the settlement-list key); QC reports duplicates.
    visits = setl_list.select(s_setl_id=setl_list.setl_id, s_mdtrt_id=setl_list.mdtrt_id)
    out = lines.join(visits, lines.mdtrt_id == visits.s_mdtrt_id)
    return out.select(setl_id=out.s_setl_id, **{c: out[c] for c in NET_COLUMNS[1:]}).select(
        *[ibis._[c] for c in NET_COLUMNS]
    )
