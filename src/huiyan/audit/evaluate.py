"""Per-class quality of the findings against a synthetic region's labels (docs/violations.md).

Matching is at case level: a finding ``(setl_id, vola_bhvr_type)`` is a true positive when the
labels have a row with that settlement and class. Only violation- and suspicion-severity
findings both count: every finding is a claim that the case belongs to the class.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from huiyan.errors import InputError
from huiyan.model.enums import enums

LABEL_COLUMNS = ("setl_id", "vola_bhvr_type", "mechanism", "detail", "amount")
REPORT_COLUMNS = (
    "vola_bhvr_type",
    "labels",
    "findings",
    "tp",
    "fp",
    "fn",
    "precision",
    "recall",
    "f1",
    "amount_found",
    "amount_planted",
)

_REPORT_SCHEMA = pa.schema(
    [
        ("vola_bhvr_type", pa.string()),
        *[(c, pa.int64()) for c in ("labels", "findings", "tp", "fp", "fn")],
        *[(c, pa.float64()) for c in ("precision", "recall", "f1")],
        # Yuan at the fen, exact (sums of decimal amounts).
        ("amount_found", pa.decimal128(38, 2)),
        ("amount_planted", pa.decimal128(38, 2)),
    ]
)


def _fen(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def read_labels(path: str | Path) -> pa.Table:
    """``labels.csv`` as text columns; a missing column is an error naming the file."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: 标签文件不存在")
    table = pacsv.read_csv(
        p,
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in LABEL_COLUMNS}, strings_can_be_null=True
        ),
    )
    missing = [c for c in LABEL_COLUMNS if c not in table.column_names]
    if missing:
        raise InputError(f"{p}: 缺少列 {', '.join(missing)}")
    return table


def _amount(value: object) -> Decimal:
    """A label's or finding's amount as exact yuan (unreadable text counts 0): sums of many
    amounts stay exact, as the findings' own ``vola_amt`` are."""
    if value is None or value == "":
        return Decimal(0)
    try:
        out = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        return Decimal(0)
    return out if out.is_finite() else Decimal(0)


def evaluate(findings: pa.Table, labels: pa.Table) -> pa.Table:
    """One row per class: label and finding counts, precision, recall, F1 and amounts."""
    planted: dict[str, set[str]] = {}
    planted_amt: dict[str, Decimal] = {}
    for r in labels.select(["setl_id", "vola_bhvr_type", "amount"]).to_pylist():
        cls = r["vola_bhvr_type"]
        planted.setdefault(cls, set()).add(r["setl_id"])
        planted_amt[cls] = planted_amt.get(cls, Decimal(0)) + _amount(r["amount"])
    found: dict[str, set[str]] = {}
    found_amt: dict[str, dict[str, Decimal]] = {}
    for r in findings.select(["setl_id", "vola_bhvr_type", "vola_amt"]).to_pylist():
        cls = r["vola_bhvr_type"]
        found.setdefault(cls, set()).add(r["setl_id"])
        # Several rules of one class may flag one case: count the case's largest amount once.
        per_case = found_amt.setdefault(cls, {})
        amt = _amount(r["vola_amt"])
        seen = per_case.get(r["setl_id"])
        per_case[r["setl_id"]] = amt if seen is None or abs(amt) > abs(seen) else seen
    rows = []
    for cls in enums()["vola_bhvr_type"]:  # the order of docs/design.md §5
        lab, fnd = planted.get(cls, set()), found.get(cls, set())
        tp, fp, fn = len(lab & fnd), len(fnd - lab), len(lab - fnd)
        precision = tp / (tp + fp) if tp + fp else None
        recall = tp / (tp + fn) if tp + fn else None
        f1 = (
            2 * precision * recall / (precision + recall)
            if precision is not None and recall is not None and precision + recall
            else None
        )
        rows.append(
            {
                "vola_bhvr_type": cls,
                "labels": len(lab),
                "findings": len(fnd),
                "tp": tp,
                "fp": fp,
                "fn": fn,
                "precision": precision,
                "recall": recall,
                "f1": f1,
                "amount_found": _fen(sum(found_amt.get(cls, {}).values(), Decimal(0))),
                "amount_planted": _fen(planted_amt.get(cls, Decimal(0))),
            }
        )
    return pa.Table.from_pylist(rows, schema=_REPORT_SCHEMA)
