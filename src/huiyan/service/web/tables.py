"""A table shown on a page and downloadable as xlsx: one definition serves both."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from huiyan.report.tabular import SAFE_OPTIONS

Fmt = str  # text | code (never wrapped) | int | money | wan | pct | num | date | time


@dataclass(frozen=True)
class Col:
    key: str
    label: str
    fmt: Fmt = "text"
    link: Callable[[dict[str, Any]], str | None] | None = None


@dataclass
class TableData:
    """Rows to show; ``key`` names it in the download URL (``?xlsx=<key>``)."""

    key: str
    title: str
    cols: Sequence[Col]
    rows: list[dict[str, Any]]
    note: str = ""
    highlight: Callable[[dict[str, Any]], bool] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def fmt(value: Any, kind: Fmt = "text") -> str:
    """A value as the pages show it (Chinese conventions: 万元, %, thousands separators)."""
    if value is None or value == "":
        return "—"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "money":
        return f"{float(value):,.2f}"
    if kind == "wan":
        return f"{float(value) / 10_000:,.2f}"
    if kind == "pct":
        return f"{float(value) * 100:.1f}%"
    if kind == "num":
        return f"{float(value):,.2f}"
    if kind == "date":
        return str(value)[:10]
    if kind == "time":
        return str(value)[:16]
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def xlsx_bytes(table: TableData, *, sheet: str | None = None) -> bytes:
    """The table as an xlsx workbook (numbers stay numbers; labels as column headers)."""
    import xlsxwriter

    buf = io.BytesIO()
    # Data never becomes a formula or a link in the auditor's Excel (OWASP CSV injection).
    book = xlsxwriter.Workbook(
        buf,
        {"in_memory": True, "remove_timezone": True, "constant_memory": True, **SAFE_OPTIONS},
    )
    ws = book.add_worksheet(sheet_name(sheet or table.title))
    head = book.add_format({"bold": True, "bg_color": "#E8EEF7", "border": 1})
    # Number formats set per column: rows are then written in one call each.
    formats = {
        "money": book.add_format({"num_format": "#,##0.00"}),
        "wan": book.add_format({"num_format": "#,##0.00"}),
        "num": book.add_format({"num_format": "#,##0.00"}),
        "pct": book.add_format({"num_format": "0.0%"}),
    }
    numeric = {"money", "wan", "num", "pct", "int"}
    for j, c in enumerate(table.cols):
        ws.set_column(j, j, max(10, min(40, len(c.label) * 2 + 2)), formats.get(c.fmt))
    ws.write_row(0, 0, [c.label for c in table.cols], head)
    ws.freeze_panes(1, 0)
    kinds = [(c.key, c.fmt in numeric) for c in table.cols]
    for i, row in enumerate(table.rows, start=1):
        ws.write_row(i, 0, [_cell(row.get(k), num) for k, num in kinds])
    book.close()
    return buf.getvalue()


def sheet_name(title: str) -> str:
    """An Excel sheet name: at most 31 characters, none of ``[]:*?/\\``."""
    clean = re.sub(r"[\[\]:*?/\\]", "_", title).strip("'")[:31]
    return clean or "Sheet1"


def _cell(v: Any, numeric: bool) -> Any:
    if v is None:
        return None
    if isinstance(v, bool):
        return "是" if v else "否"
    if numeric and isinstance(v, Decimal | int | float):
        return float(v)
    return v if isinstance(v, int | float) else str(v)
