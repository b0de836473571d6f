"""Scheme-change report: which cases change group between two schemes, and why.

Both schemes group every case on the batch path; only the cases whose (status, mdc, adrg,
drg) differ are replayed on the single-case path, and their two traces are compared to say
what changed: the MDC entered, the ADRG rule, the MCC/CC verdicts, or only the DRG split.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from huiyan.grouping.batch import group_table
from huiyan.grouping.cases import Case
from huiyan.grouping.result import GroupResult
from huiyan.grouping.single import group_case

DIFF_SCHEMA = pa.schema(
    [
        ("case_id", pa.string()),
        ("from_status", pa.string()),
        ("from_mdc", pa.string()),
        ("from_drg", pa.string()),
        ("to_status", pa.string()),
        ("to_mdc", pa.string()),
        ("to_drg", pa.string()),
        ("change", pa.string()),
        ("reason", pa.string()),
    ]
)
_KEYS = ("status", "mdc", "adrg", "drg")
_GROUPED = ("SUCCESS", "FAIL", "QY")  # outcomes of the decision procedure, not input errors


def _first(trace: list[str], prefix: str) -> str | None:
    return next((line for line in trace if line.startswith(prefix)), None)


def _complication_lines(r: GroupResult) -> set[str]:
    return {line for line in r.trace if line.startswith("次要诊断")}


def explain_change(a: GroupResult, b: GroupResult, names: tuple[str, str]) -> tuple[str, str]:
    """(change level, Chinese reason) for one case grouped under two schemes."""
    fa, fb = names
    if a.status not in _GROUPED or b.status not in _GROUPED:
        return "status", f"分组状态由 {a.status} 变为 {b.status}"
    if a.mdc != b.mdc:
        ea, eb = (
            _first(a.trace, "进入") or "未进入任何MDC",
            _first(b.trace, "进入") or "未进入任何MDC",
        )
        return "mdc", f"MDC不同:{fa} {ea};{fb} {eb}"
    if a.adrg != b.adrg:
        ra = _first(a.trace, "ADRG") or _first(a.trace, "歧义组") or "无ADRG规则成立"
        rb = _first(b.trace, "ADRG") or _first(b.trace, "歧义组") or "无ADRG规则成立"
        return "adrg", f"ADRG规则不同:{fa} {ra};{fb} {rb}"
    parts = []
    if (a.has_mcc, a.has_cc) != (b.has_mcc, b.has_cc):
        parts.append(
            f"并发症认定不同:{fa} MCC={_yn(a.has_mcc)} CC={_yn(a.has_cc)},"
            f"{fb} MCC={_yn(b.has_mcc)} CC={_yn(b.has_cc)}"
        )
        only_a = sorted(_complication_lines(a) - _complication_lines(b))
        only_b = sorted(_complication_lines(b) - _complication_lines(a))
        if only_a:
            parts.append(f"仅{fa}: " + ";".join(only_a))
        if only_b:
            parts.append(f"仅{fb}: " + ";".join(only_b))
    da, db = _first(a.trace, "DRG ") or "", _first(b.trace, "DRG ") or ""
    parts.append(f"DRG细分:{fa} {da or a.drg};{fb} {db or b.drg}")
    return "drg", "。".join(parts)


def _yn(v: bool | None) -> str:
    return "是" if v else "否"


def diff_schemes(
    cases: pa.Table, from_scheme: str, to_scheme: str, *, mode: str = "raw"
) -> pa.Table:
    """One row per case whose group differs between ``from_scheme`` and ``to_scheme``."""
    a = group_table(cases, from_scheme, mode=mode)
    b = group_table(cases, to_scheme, mode=mode)
    changed = np.zeros(cases.num_rows, dtype=bool)
    for k in _KEYS:
        changed |= pc.not_equal(a.column(k), b.column(k)).to_numpy(zero_copy_only=False)
    idx = pa.array(np.flatnonzero(changed))
    rows = []
    for row in cases.take(idx).to_pylist():
        case = Case.from_row(row)
        ra = group_case(case, from_scheme, mode=mode)
        rb = group_case(case, to_scheme, mode=mode)
        level, reason = explain_change(ra, rb, (from_scheme, to_scheme))
        rows.append(
            {
                "case_id": case.case_id,
                "from_status": ra.status,
                "from_mdc": ra.mdc,
                "from_drg": ra.drg,
                "to_status": rb.status,
                "to_mdc": rb.mdc,
                "to_drg": rb.drg,
                "change": level,
                "reason": reason,
            }
        )
    return pa.Table.from_pylist(rows, schema=DIFF_SCHEMA)
