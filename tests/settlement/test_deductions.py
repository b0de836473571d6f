"""Violation deductions count each fee line once, however many rules name it."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa

from huiyan.settlement.deductions import net_deductions


def _findings(*rows: tuple[str, str, str | None]) -> pa.Table:
    return pa.table(
        {
            "setl_id": [r[0] for r in rows],
            "vola_amt": pa.array([Decimal(r[1]) for r in rows], pa.decimal128(16, 2)),
            "detail": [r[2] for r in rows],
        }
    )


def test_findings_naming_the_same_lines_deduct_once() -> None:
    # Bed days above the stay (OVERQTY-003) and the bed item above its daily limit (OVERQTY-001)
    # on the same two bed lines: one deduction of the larger amount, not their sum.
    f = _findings(("S1", "90.00", "7|8"), ("S1", "90.00", "8|7"), ("S1", "12.50", "3"))
    assert net_deductions(f) == {"S1": 9000 + 1250}


def test_findings_chained_by_shared_lines_form_one_group() -> None:
    f = _findings(("S1", "30.00", "1|2"), ("S1", "50.00", "2|3"), ("S1", "40.00", "3|4"))
    assert net_deductions(f) == {"S1": 5000}


def test_disjoint_findings_and_findings_without_lines_add_up() -> None:
    f = _findings(
        ("S1", "10.01", "1"),
        ("S1", "20.02", "2"),
        ("S1", "5.00", None),
        ("S1", "5.00", ""),
        ("S2", "0.10", "1"),  # line numbers are per case: S2's line 1 is another line
    )
    assert net_deductions(f) == {"S1": 1001 + 2002 + 500 + 500, "S2": 10}
