"""Settlement ledgers computed in integer fen: monthly pre-settlement and year-end clearing.

Everything here is pure (numpy arrays in, plain rows out) so the reconciliation property —
pool in = paid out + withheld + redistributed, to the fen — can be tested on any input.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from huiyan.settlement.allocate import largest_remainder, share_fen
from huiyan.settlement.bands import clearing_adjustment


@dataclass
class Cases:
    """The cases of one settlement run, one array element per case (money in fen)."""

    setl_id: np.ndarray
    medins_code: np.ndarray
    case_type: np.ndarray
    standard: np.ndarray
    actual: np.ndarray
    patient: np.ndarray
    critical: np.ndarray
    special_review: np.ndarray  # applied for 特病单议
    new_tech: np.ndarray  # approved new-technology amount paid outside the package
    deduction: np.ndarray  # violation amount to deduct

    def __len__(self) -> int:
        return int(self.setl_id.size)


@dataclass
class Ledger:
    hospitals: list[dict[str, Any]]
    cases: list[dict[str, Any]]
    pool: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def yuan(fen: int | np.integer) -> Decimal:
    """Integer fen as a 2-decimal yuan Decimal."""
    return Decimal(int(fen)).scaleb(-2)


def _by_hospital(codes: np.ndarray, values: np.ndarray) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    uniq, inv = np.unique(codes, return_inverse=True)
    sums = np.bincount(inv, weights=values.astype(np.float64), minlength=uniq.size)
    # bincount sums in float64; exact for fen totals below 2**53 (9e13 yuan), checked here.
    if np.abs(sums).max(initial=0) >= 2**53:
        raise OverflowError("fen totals too large for exact float summation")
    for code, s in zip(uniq.tolist(), sums.tolist(), strict=True):
        out[code] = int(round(s))
    return out


def monthly(cases: Cases, *, prepay_share: Decimal | str) -> Ledger:
    """月预结算: each hospital is advanced ``prepay_share`` of the fund due, the rest withheld."""
    due = np.maximum(cases.standard - cases.patient, 0)
    due_h = _by_hospital(cases.medins_code, due)
    n_h = _by_hospital(cases.medins_code, np.ones(len(cases), dtype=np.int64))
    std_h = _by_hospital(cases.medins_code, cases.standard)
    act_h = _by_hospital(cases.medins_code, cases.actual)
    pat_h = _by_hospital(cases.medins_code, cases.patient)
    hospitals: list[dict[str, Any]] = []
    for code in sorted(due_h):
        paid = share_fen(due_h[code], prepay_share, floor=True)
        hospitals.append(
            {
                "medins_code": code,
                "cases": n_h[code],
                "standard_amt": std_h[code],
                "actual_cost": act_h[code],
                "patient_share": pat_h[code],
                "fund_due": due_h[code],
                "paid": paid,
                "withheld": due_h[code] - paid,
            }
        )
    case_rows = [
        {"setl_id": s, "medins_code": m, "case_type": t, "fund_due": int(d)}
        for s, m, t, d in zip(cases.setl_id, cases.medins_code, cases.case_type, due, strict=True)
    ]
    pool_in = sum(h["fund_due"] for h in hospitals)
    paid_out = sum(h["paid"] for h in hospitals)
    pool = {
        "pool_in": pool_in,
        "paid_out": paid_out,
        "withheld": pool_in - paid_out,
        "redistributed": 0,
        "deducted": 0,
    }
    return Ledger(hospitals, case_rows, pool)


def _approve_special_review(cases: Cases, cap_share: float) -> np.ndarray:
    """Applied cases within each hospital's cap, largest (cost − standard) first."""
    approved = np.zeros(len(cases), dtype=bool)
    n_h = _by_hospital(cases.medins_code, np.ones(len(cases), dtype=np.int64))
    applied = np.flatnonzero(cases.special_review)
    by_h: dict[str, list[int]] = defaultdict(list)
    for i in applied.tolist():
        by_h[str(cases.medins_code[i])].append(i)
    for code, idx in by_h.items():
        cap = share_fen(n_h[code], cap_share, floor=True)
        idx.sort(key=lambda i: (-(int(cases.actual[i]) - int(cases.standard[i])), i))
        approved[idx[:cap]] = True
    return approved


def year_end(
    cases: Cases,
    *,
    settlement: dict[str, Any],
    method: str,
    prepaid: dict[str, int] | None = None,
) -> Ledger:
    """年终清算: special review, new technology, deductions, bands, redistribution."""
    cfg = settlement
    prepaid = prepaid or {}
    notes: list[str] = []
    approved = _approve_special_review(cases, float(cfg["special_review_cap"][method]))
    over_cap = cases.special_review & ~approved
    standard = np.where(approved, np.maximum(cases.actual, cases.standard), cases.standard)
    sr_extra = standard - cases.standard
    case_due = np.maximum(standard + cases.new_tech - cases.patient, 0)
    deduction = np.minimum(np.maximum(cases.deduction, 0), case_due)

    codes = cases.medins_code
    agg = {
        name: _by_hospital(codes, arr)
        for name, arr in {
            "cases": np.ones(len(cases), dtype=np.int64),
            "standard_amt": standard,
            "actual_cost": cases.actual,
            "patient_share": cases.patient,
            "special_review_amt": sr_extra,
            "new_tech_amt": cases.new_tech,
            "deduction": deduction,
            "case_due": case_due,
        }.items()
    }
    hospitals_codes = sorted(agg["cases"])
    adj = {
        h: clearing_adjustment(
            agg["standard_amt"][h],
            agg["actual_cost"][h],
            surplus_bands=cfg["surplus_bands"],
            overspend_bands=cfg["overspend_bands"],
        )
        for h in hospitals_codes
    }
    budget = cfg["fund_budget"]
    budget_fen = None if budget is None else share_fen(100, budget)
    if budget_fen is not None:
        # The fund's share of overspend comes out of the reserve 调剂金 and cannot exceed it.
        reserve = share_fen(budget_fen, cfg["reserve_share"], floor=True)
        pos = [h for h in hospitals_codes if adj[h] > 0]
        shared = sum(adj[h] for h in pos)
        if shared > reserve:
            capped = largest_remainder(reserve, [adj[h] for h in pos])
            adj.update(zip(pos, capped.tolist(), strict=True))
            notes.append("超支分担超过调剂金, 已按比例压缩")

    # Liaocheng redistribution: deductions back to compliant cases, tilted (§1.6, §4.7).
    total_deducted = int(deduction.sum())
    red = cfg["redistribution"]
    tilt = (
        1.0
        + float(red["tilt_critical"]) * cases.critical
        + float(red["tilt_new_tech"]) * (cases.new_tech > 0)
    )
    compliant = (cases.deduction <= 0) & (standard > 0)
    weights = np.where(compliant, standard * tilt, 0.0)
    redistributed = np.zeros(len(cases), dtype=np.int64)
    if red["enabled"] and total_deducted and weights.sum() > 0:
        redistributed = largest_remainder(total_deducted, weights)
    elif total_deducted:
        notes.append("扣减金额未再分配, 留在基金池")
    red_h = _by_hospital(codes, redistributed)

    hospitals: list[dict[str, Any]] = []
    for h in hospitals_codes:
        due = agg["case_due"][h] + adj[h] - agg["deduction"][h]
        pre = int(prepaid.get(h, 0))
        hospitals.append(
            {
                "medins_code": h,
                "cases": agg["cases"][h],
                "standard_amt": agg["standard_amt"][h],
                "actual_cost": agg["actual_cost"][h],
                "patient_share": agg["patient_share"][h],
                "special_review_amt": agg["special_review_amt"][h],
                "new_tech_amt": agg["new_tech_amt"][h],
                "clearing_adj": adj[h],
                "deduction": agg["deduction"][h],
                "fund_due": due,
                "prepaid": pre,
                "paid": due + red_h[h] - pre,
                "withheld": 0,
                "redistributed": red_h[h],
            }
        )
    paid_out = sum(h["fund_due"] for h in hospitals)
    red_total = int(redistributed.sum())
    pool_in = budget_fen if budget_fen is not None else paid_out + total_deducted
    pool = {
        "pool_in": pool_in,
        "paid_out": paid_out,
        "redistributed": red_total,
        "withheld": pool_in - paid_out - red_total,
        "deducted": total_deducted,
    }
    if pool["withheld"] < 0:
        notes.append("拨付超过基金预算 (基金池为负)")
    sr_state = np.where(approved, "approved", np.where(over_cap, "over_cap", ""))
    case_rows = [
        {
            "setl_id": s,
            "medins_code": m,
            "case_type": "special_review" if a else t,
            "fund_due": int(d),
            "deduction": int(x),
            "redistributed": int(r),
            "special_review": sr or None,
            "tilt": float(k),
        }
        for s, m, t, a, d, x, r, sr, k in zip(
            cases.setl_id,
            codes,
            cases.case_type,
            approved,
            case_due,
            deduction,
            redistributed,
            sr_state,
            tilt,
            strict=True,
        )
    ]
    return Ledger(hospitals, case_rows, pool, notes)
