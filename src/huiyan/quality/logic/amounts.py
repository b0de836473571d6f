"""Amounts: total = net fee lines (refunds netted), fund + self-pay = total, line arithmetic."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from huiyan.quality.logic._util import not_empty, out
from huiyan.quality.logic.registry import logic

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.quality.inputs import QcInputs


@logic("fee_total_mismatch")
def fee_total_mismatch(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    # Refund lines carry negative amounts, so the plain sum is the net total.
    f = q.net_fee
    per = f.group_by("setl_id").aggregate(lines=f.det_item_fee_sumamt.sum())
    s = q.setl_list.select("setl_id", "medfee_sumamt")
    j = s.join(per, "setl_id")
    bad = j.filter((j.medfee_sumamt - j.lines).abs() > p["amount_tolerance"])
    return out(bad, "medfee_sumamt", bad.medfee_sumamt, bad.lines)


@logic("no_fee_lines")
def no_fee_lines(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    s = q.setl_list
    bad = s.anti_join(q.feedetail, "mdtrt_id").filter(not_empty(q.feedetail))
    return out(bad, "mdtrt_id", bad.mdtrt_id)


@logic("payment_split_mismatch")
def payment_split_mismatch(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    # SETL_D: medfee_sumamt = fund_pay_sumamt + psn_pay, psn_pay = acct_pay + cash_payamt.
    # Own-pay and co-pay (ownpay_amt, selfpay_amt) are parts of psn_pay, not further terms.
    s = q.setl_list
    parts = s.fund_pay_sumamt + s.acct_pay + s.psn_cashpay
    s = s.mutate(parts=parts)
    bad = s.filter(s.parts.notnull() & ((s.parts - s.medfee_sumamt).abs() > p["amount_tolerance"]))
    return out(bad, "fund_pay_sumamt", bad.medfee_sumamt, bad.parts)


@logic("personal_payment_mismatch")
def personal_payment_mismatch(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    s = q.setl_list
    # The person pays own-pay and co-pay plus deductible and pooled co-insurance, so what they
    # paid can exceed ownpay + selfpay but never fall short of it.
    s = s.mutate(paid=s.acct_pay + s.psn_cashpay, owed=s.ownpay_amt + s.selfpay_amt)
    bad = s.filter(s.paid.notnull() & s.owed.notnull() & (s.owed - s.paid > p["amount_tolerance"]))
    return out(bad, "psn_cashpay", bad.paid, bad.owed)


@logic("fund_exceeds_total")
def fund_exceeds_total(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    s = q.setl_list
    bad = s.filter(s.fund_pay_sumamt > s.medfee_sumamt)
    return out(bad, "fund_pay_sumamt", bad.fund_pay_sumamt, bad.medfee_sumamt)


@logic("hifp_exceeds_fund")
def hifp_exceeds_fund(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    s = q.setl_list
    bad = s.filter(s.hifp_pay > s.fund_pay_sumamt)
    return out(bad, "hifp_pay", bad.hifp_pay, bad.fund_pay_sumamt)


@logic("line_amount_mismatch")
def line_amount_mismatch(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    f = q.net_fee
    bad = f.filter((f.cnt * f.pric - f.det_item_fee_sumamt).abs() > p["amount_tolerance"])
    agg = bad.group_by("setl_id").aggregate(value=bad.feedetl_sn.min(), n=bad.count())
    return out(agg, "det_item_fee_sumamt", agg.value, agg.n)


@logic("refund_without_original")
def refund_without_original(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    f = q.net_fee
    refunds = f.filter(f.cnt < 0)
    orig = f.select(setl_id2=f.setl_id, sn=f.feedetl_sn)
    bad = refunds.anti_join(
        orig, (refunds.setl_id == orig.setl_id2) & (refunds.init_feedetl_sn == orig.sn)
    )
    return out(bad, "init_feedetl_sn", bad.feedetl_sn, bad.init_feedetl_sn)


@logic("net_negative_item")
def net_negative_item(q: QcInputs, p: dict[str, Any]) -> ir.Table:
    f = q.net_fee
    agg = f.group_by(["setl_id", "med_list_codg"]).aggregate(net=f.cnt.sum())
    bad = agg.filter(agg.net < 0)
    return out(bad, "cnt", bad.med_list_codg, bad.net)
