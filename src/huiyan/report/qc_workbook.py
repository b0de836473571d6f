"""Excel workbook of settlement-list QC, one per institution (Chinese headers, xlsxwriter).

Sheets: 指标汇总 (the four indicators by discharge month, with their definitions), 质控问题
(every issue: case, check, field, value, message) and 规则统计 (issues per check).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow as pa
import xlsxwriter

from huiyan.model.tables import QC_ISSUE
from huiyan.quality.indicators import INDICATORS
from huiyan.quality.spec import by_id
from huiyan.report.safe import safe_filename
from huiyan.report.tabular import SAFE_OPTIONS

_SEVERITY = {"error": "错误", "warning": "提示"}


def _rows(t: pa.Table, medins_code: str) -> list[dict]:
    return [r for r in t.to_pylist() if r["medins_code"] == medins_code]


def write_workbook(
    path: Path, medins_code: str, medins_name: str, issues: pa.Table, indicators: pa.Table
) -> Path:
    """Write the QC workbook of one institution to ``path``."""
    specs = by_id()
    # Cells hold data from the hospitals' files: never let one become a formula or a link.
    wb = xlsxwriter.Workbook(str(path), SAFE_OPTIONS)
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    pct = wb.add_format({"num_format": "0.00%"})

    ws = wb.add_worksheet("指标汇总")
    ws.write(0, 0, f"{medins_name or medins_code}（{medins_code}）结算清单质控指标", head)
    cols = [
        "期间(出院月份)",
        *[f"{INDICATORS[k][0]}{s}" for k in INDICATORS for s in ("分子", "分母", "比率")],
    ]
    ws.write_row(2, 0, cols, head)
    by_period: dict[str, dict[str, dict]] = {}
    for r in _rows(indicators, medins_code):
        by_period.setdefault(r["period"], {})[r["indicator"]] = r
    for i, (period, ind) in enumerate(sorted(by_period.items()), start=3):
        ws.write(i, 0, period)
        for j, key in enumerate(INDICATORS):
            r = ind.get(key, {})
            ws.write(i, 1 + 3 * j, r.get("numerator"))
            ws.write(i, 2 + 3 * j, r.get("denominator"))
            ws.write(i, 3 + 3 * j, r.get("rate"), pct)
    row = 4 + len(by_period)
    ws.write(row, 0, "指标定义", head)
    for label, definition in INDICATORS.values():
        row += 1
        ws.write(row, 0, label)
        ws.write(row, 1, definition)
    ws.set_column(0, 0, 16)
    ws.set_column(1, len(cols), 12)

    ws = wb.add_worksheet("质控问题")
    ws.write_row(
        0,
        0,
        [
            "结算ID",
            "规则编号",
            "规则名称",
            "严重程度",
            "字段",
            "字段名称",
            "值",
            "问题描述",
            "政策依据",
        ],
        head,
    )
    mine = _rows(issues, medins_code)
    for i, r in enumerate(mine, start=1):
        spec = specs.get(r["check_id"])
        ws.write_row(
            i,
            0,
            [
                r["setl_id"],
                r["check_id"],
                spec.name if spec else "",
                _SEVERITY.get(r["severity"], r["severity"]),
                r["field"],
                _label(r["field"]),
                r["value"],
                r["message"],
                spec.basis if spec else "",
            ],
        )
    ws.autofilter(0, 0, max(len(mine), 1), 8)
    ws.freeze_panes(1, 0)
    ws.set_column(0, 1, 14)
    ws.set_column(2, 2, 28)
    ws.set_column(7, 7, 60)

    ws = wb.add_worksheet("规则统计")
    ws.write_row(0, 0, ["规则编号", "规则名称", "严重程度", "问题数"], head)
    counts = Counter(r["check_id"] for r in mine)
    for i, (cid, n) in enumerate(counts.most_common(), start=1):
        spec = specs.get(cid)
        ws.write_row(
            i,
            0,
            [cid, spec.name if spec else "", _SEVERITY.get(spec.severity, "") if spec else "", n],
        )
    wb.close()
    return path


def _label(field: str) -> str:
    from huiyan.model import TABLES

    for t in TABLES.values():
        if field in t:
            return t[field].label
    return field


def write_all(
    out_dir: Path, issues: pa.Table, indicators: pa.Table, names: dict[str, str]
) -> list[Path]:
    """One workbook per institution that has indicators or issues: ``质控报告_<code>.xlsx``
    (the code made safe as a file name, so no code can write outside ``out_dir``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    codes = set(indicators.column("medins_code").to_pylist()) | set(
        issues.column("medins_code").to_pylist()
    )
    codes.discard(None)
    assert set(QC_ISSUE.columns) <= set(issues.column_names)
    return [
        write_workbook(
            out_dir / f"质控报告_{safe_filename(c)}.xlsx", c, names.get(c, ""), issues, indicators
        )
        for c in sorted(codes)
    ]
