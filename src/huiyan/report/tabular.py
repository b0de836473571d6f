"""Tables written for people: xlsx and CSV that open cleanly in Excel on a Chinese desktop.

Every writer here applies ``report.safe``: text that looks like a formula stays text, numbers
stay numbers. xlsx sheets get a bold frozen header, an autofilter over the data, column
widths fitted to the content (CJK characters count double) and thousands separators on money;
CSV is UTF-8 with a byte-order mark (Excel otherwise reads it as the local code page).
``labelled`` turns column names and coded values into the Chinese labels ``huiyan.model``
declares, so an auditor never reads ``extreme_high`` or ``medins_code``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from huiyan.model import TABLES, Field, enums
from huiyan.report.safe import FORMULA_START, is_formula_like

BOM = b"\xef\xbb\xbf"
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit, minus the header row
_MAX_WIDTH = 60
_SAMPLE = 2_000  # rows looked at to fit a column's width
# Workbook options for any sheet holding data: text never turns into a formula or a link.
SAFE_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "remove_timezone": True}


@dataclass
class Sheet:
    """One worksheet: a table, its header texts, and per-column number formats."""

    name: str
    data: pa.Table
    headers: Sequence[str] | None = None
    title: str | None = None  # an optional first row above the header
    percent: Sequence[str] = ()  # columns shown as 12.34%
    money: Sequence[str] = field(default_factory=tuple)  # extra columns shown as 1,234.56


def display_width(text: str) -> int:
    """Columns ``text`` takes in a fixed-width font (East Asian wide characters count 2)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _is_money(t: pa.DataType) -> bool:
    return pa.types.is_decimal(t) and t.scale == 2


def write_xlsx(path: Path, sheets: Sequence[Sheet]) -> Path:
    """Write ``sheets`` to one workbook at ``path``."""
    import xlsxwriter

    with xlsxwriter.Workbook(str(path), SAFE_OPTIONS) as wb:
        fmt = {
            "head": wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1}),
            "title": wb.add_format({"bold": True, "font_size": 12}),
            "money": wb.add_format({"num_format": "#,##0.00"}),
            "int": wb.add_format({"num_format": "#,##0"}),
            "num": wb.add_format({"num_format": "#,##0.####"}),
            "pct": wb.add_format({"num_format": "0.00%"}),
            "date": wb.add_format({"num_format": "yyyy-mm-dd"}),
            "time": wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
            "text": wb.add_format({"quote_prefix": True}),
        }
        for sheet in sheets:
            _write_sheet(wb, sheet, fmt)
    return path


def _write_sheet(wb: object, sheet: Sheet, fmt: dict) -> None:
    data = sheet.data
    if data.num_rows > XLSX_MAX_ROWS:
        from huiyan.errors import InputError

        raise InputError(
            f"{sheet.name}: {data.num_rows:,} 行超过 Excel 上限 exceeds the Excel row limit; "
            "请导出为 .csv 或 .parquet"
        )
    ws = wb.add_worksheet(_sheet_name(sheet.name))  # type: ignore[attr-defined]
    headers = list(sheet.headers or data.column_names)
    top = 0
    if sheet.title:
        ws.write_string(0, 0, sheet.title, fmt["title"])
        top = 2
    for j, h in enumerate(headers):
        ws.write_string(top, j, h, fmt["head"])
    widths = [display_width(h) + 2 for h in headers]
    for j, column in enumerate(data.columns):
        name = data.column_names[j]
        kind = _kind(column.type, name, sheet)
        for i, v in enumerate(column.to_pylist(), start=top + 1):
            if v is None:
                continue
            text = _write_cell(ws, i, j, v, kind, fmt)
            if i - top <= _SAMPLE:
                widths[j] = max(widths[j], display_width(text) + 2)
    for j, w in enumerate(widths):
        ws.set_column(j, j, min(w, _MAX_WIDTH))
    ws.freeze_panes(top + 1, 0)
    ws.autofilter(top, 0, top + max(data.num_rows, 1), max(len(headers) - 1, 0))


def _kind(t: pa.DataType, name: str, sheet: Sheet) -> str:
    if name in sheet.percent:
        return "pct"
    if _is_money(t) or name in sheet.money:
        return "money"
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "num"
    if pa.types.is_timestamp(t):
        return "time"
    if pa.types.is_date(t):
        return "date"
    return "text"


def _write_cell(ws: object, i: int, j: int, v: object, kind: str, fmt: dict) -> str:
    """Write one value; returns the text it shows (for the column width)."""
    if isinstance(v, bool):
        ws.write_boolean(i, j, v)  # type: ignore[attr-defined]
        return "FALSE"
    if isinstance(v, int | float | Decimal):
        f = float(v)
        if f != f or f in (float("inf"), float("-inf")):  # NaN/inf: Excel has no such number
            ws.write_string(i, j, str(v))  # type: ignore[attr-defined]
            return str(v)
        ws.write_number(i, j, f, fmt.get(kind, fmt["num"]) if kind != "text" else None)  # type: ignore[attr-defined]
        return f"{f:,.2f}" if kind in ("money", "pct", "num") else f"{f:,.0f}"
    if isinstance(v, datetime):
        ws.write_datetime(i, j, v, fmt["time"])  # type: ignore[attr-defined]
        return "0000-00-00 00:00:00"
    if isinstance(v, date):
        ws.write_datetime(i, j, datetime(v.year, v.month, v.day), fmt["date"])  # type: ignore[attr-defined]
        return "0000-00-00"
    text = str(v)
    if is_formula_like(text):
        ws.write_string(i, j, text, fmt["text"])  # type: ignore[attr-defined]
    else:
        ws.write_string(i, j, text)  # type: ignore[attr-defined]
    return text


def _sheet_name(name: str) -> str:
    # Excel forbids []:*?/\ in sheet names and allows 31 characters.
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in name).strip("'")
    return clean[:31] or "Sheet1"


def neutralise_column(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """A string column with formula-like cells prefixed by an apostrophe."""
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return column
    pattern = "^[" + "".join("\\-" if c == "-" else c for c in FORMULA_START) + "]"
    risky = pc.fill_null(pc.match_substring_regex(column, pattern), False)
    return pc.if_else(risky, pc.binary_join_element_wise("'", column, ""), column)


def write_csv(path: Path, data: pa.Table) -> Path:
    """CSV, UTF-8 with BOM, formula-like text neutralised."""
    import pyarrow.csv as pacsv

    safe = pa.table([neutralise_column(c) for c in data.columns], names=list(data.column_names))
    with path.open("wb") as fh:
        fh.write(BOM)
        pacsv.write_csv(safe, fh)
    return path


def labelled(data: pa.Table, table: str | None = None) -> tuple[pa.Table, list[str]]:
    """``data`` with coded values replaced by their Chinese labels, and the Chinese headers."""
    model = TABLES.get(table) if table else None
    headers = []
    for i, name in enumerate(data.column_names):
        fld = model[name] if model is not None and name in model else _field(name)
        headers.append(fld.label if fld is not None else name)
        if fld is not None and fld.enum and pa.types.is_string(data.column(i).type):
            labels = enums()[fld.enum]
            values = [None if v is None else labels.get(v, v) for v in data.column(i).to_pylist()]
            data = data.set_column(i, name, pa.array(values, pa.string()))
    return data, headers


def _field(name: str) -> Field | None:
    for t in TABLES.values():
        if name in t:
            return t[name]
    return None
