"""Global budget 总额预算: year-end rate / point value fitted to the fund budget, to the fen.

Monthly pre-settlement pays by the provisional value stored with each case (the budget point
value or rate of pricing). At year end the value is recomputed so the fund's payout fits the
budget (DIP: final point value = (budget − items paid outside the packets) / total points,
§2.3; the DRG rate the same way):

- cases paid by a standard are re-priced at the candidate value R:
  ``standard = round(weight × R × coefficient, 2)`` (the stored factors, so every cleared case
  still reproduces from its row); cases paid by item or per bed-day stay as they are — they are
  the "items paid outside";
- R is the largest value (in millionths) whose whole clearing (bands, deductions,
  redistribution) pays out no more than the budget (fen rounding makes a few neighbouring
  millionths pay the same; the largest is taken); a ``floor`` and ``ceiling`` (ratios of the
  provisional value, the Guangzhou-style 封顶/保底) bound it;
- when even the floor overspends, the overspend is shared as configured: ``hospitals`` cuts it
  from the hospitals' fund due pro rata (shown per hospital and on the pool), ``none`` leaves
  it reported and the run not reconciled.

``reconciled`` is true only when pool in = paid + withheld + redistributed and the payout does
not exceed the budget.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import numpy as np

from huiyan.settlement.allocate import largest_remainder, share_fen
from huiyan.settlement.ledger import Cases, Ledger, year_end

_SCALE = 10**16  # units (1e-12) × value (1e-6) → 1e-18 yuan; fen = 1e-2 yuan


@dataclass
class Closure:
    ledger: Ledger
    provisional: Decimal | None
    final: Decimal | None
    overspend: int  # fen above the budget at the final value, before sharing
    shared: int  # fen cut from hospitals under the sharing rule


def units_of(weight: Decimal | None, coefficient: Decimal | None) -> int | None:
    """weight × coefficient in 1e-12 units (None: the case is not re-priced).

    >>> units_of(Decimal("1.5"), Decimal("0.9"))
    1350000000000
    """
    if weight is None or coefficient is None:
        return None
    return int(weight * coefficient * 10**12)


def standards_at(units: list[int | None], fixed: np.ndarray, value_micro: int) -> np.ndarray:
    """Per case the standard in fen at a value of ``value_micro`` millionths of a yuan.

    >>> standards_at([1350000000000, None], np.array([0, 777]), 10_000_000_000).tolist()
    [1350000, 777]
    """
    out = fixed.copy()
    half = _SCALE // 2
    for i, u in enumerate(units):
        if u is not None:
            out[i] = (u * value_micro + half) // _SCALE
    return out


def _outflow(ledger: Ledger) -> int:
    return int(ledger.pool["paid_out"] + ledger.pool["redistributed"])


def close_year(
    cases: Cases,
    units: list[int | None],
    provisional: Decimal | None,
    *,
    settlement: dict[str, Any],
    method: str,
    prepaid: dict[str, int] | None = None,
) -> Closure:
    """Year-end clearing with the rate / point value fitted to ``settlement['fund_budget']``."""
    cfg = settlement
    rule = cfg["budget_closure"]
    budget = cfg["fund_budget"]
    repriceable = provisional is not None and any(u is not None for u in units)
    if budget is None:
        ledger = year_end(cases, settlement=cfg, method=method, prepaid=prepaid)
        return _finish(ledger, cfg, provisional, provisional, 0, 0)
    budget_fen = share_fen(100, budget)
    if not rule["enabled"] or not repriceable or provisional is None:
        # Nothing to fit (every case paid by item or per bed-day, or fitting switched off):
        # an overspend is still shared as configured and shown.
        ledger = year_end(cases, settlement=cfg, method=method, prepaid=prepaid)
        return _overspend(ledger, cfg, provisional, provisional, budget_fen)
    prov = int(provisional * 10**6)
    lo = share_fen(prov, rule["floor"]) if rule["floor"] is not None else 0
    hi = share_fen(prov, rule["ceiling"]) if rule["ceiling"] is not None else None

    def at(v: int) -> Ledger:
        c = replace(cases, standard=standards_at(units, cases.standard, v))
        return year_end(c, settlement=cfg, method=method, prepaid=prepaid)

    if hi is None:
        # Grow an upper bound until it overspends (payout grows with the value).
        hi = max(prov, 1)
        while _outflow(at(hi)) <= budget_fen and hi < prov * 1024 + 10**12:
            hi *= 2
    if _outflow(at(lo)) > budget_fen:
        best = lo
    else:
        a, b = lo, hi  # invariant: outflow(a) ≤ budget
        if _outflow(at(b)) <= budget_fen:
            a = b
        while b - a > 1:
            mid = (a + b) // 2
            if _outflow(at(mid)) <= budget_fen:
                a = mid
            else:
                b = mid
        best = a
    return _overspend(at(best), cfg, provisional, Decimal(best).scaleb(-6), budget_fen)


def _overspend(
    ledger: Ledger,
    cfg: dict[str, Any],
    provisional: Decimal | None,
    final: Decimal | None,
    budget_fen: int,
) -> Closure:
    over = max(_outflow(ledger) - budget_fen, 0)
    shared = 0
    if over and cfg["budget_closure"]["overspend"] == "hospitals":
        shared = _share_overspend(ledger, over)
    return _finish(ledger, cfg, provisional, final, over, shared)


def _share_overspend(ledger: Ledger, over: int) -> int:
    """Cut ``over`` fen from the hospitals' fund due in proportion to it (largest remainder)."""
    due = [max(int(h["fund_due"]), 0) for h in ledger.hospitals]
    if sum(due) <= 0:
        return 0
    cut = largest_remainder(min(over, sum(due)), due)
    for h, c in zip(ledger.hospitals, cut.tolist(), strict=True):
        h["overspend_cut"] = int(c)
        h["fund_due"] -= int(c)
        h["paid"] -= int(c)
    ledger.pool["paid_out"] -= int(cut.sum())
    ledger.pool["withheld"] += int(cut.sum())
    return int(cut.sum())


def _finish(
    ledger: Ledger,
    cfg: dict[str, Any],
    provisional: Decimal | None,
    final: Decimal | None,
    over: int,
    shared: int,
) -> Closure:
    p = ledger.pool
    budget = cfg["fund_budget"]
    identity = p["pool_in"] == p["paid_out"] + p["withheld"] + p["redistributed"]
    within = budget is None or p["paid_out"] + p["redistributed"] <= p["pool_in"]
    p.update(
        budget=share_fen(100, budget) if budget is not None else None,
        provisional_value=provisional,
        final_value=final,
        overspend=over,
        overspend_shared=shared,
        within_budget=within,
        reconciled=identity and within,
    )
    ledger.notes = [n for n in ledger.notes if n != "拨付超过基金预算 (基金池为负)"]
    if final is not None and provisional is not None and final != provisional:
        ledger.notes.append(f"年终清算值 {final} (预结算 {provisional}), 按基金预算确定")
    if over:
        ledger.notes.append(
            f"按下限清算仍超预算 {Decimal(over).scaleb(-2)} 元"
            + (
                f", 已由医疗机构按比例分担 {Decimal(shared).scaleb(-2)} 元"
                if shared
                else ", 未分担"
            )
        )
    if not within:
        ledger.notes.append("拨付超过基金预算 (基金池为负)")
    return Closure(ledger, provisional, final, over, shared)
