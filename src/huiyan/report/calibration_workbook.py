"""测算报告 Excel workbook for the bureau's calibration review (issue 19).

For every DRG: cases (all years, complete calibration years, after trimming), raw and final
weight and why (own cases, shrunk toward the ADRG/MDC/published weight, pooled for severity
order); the DIP catalog with scores and level reference costs; the rates, point values and
coefficients; and every pricing warning.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import xlsxwriter

if TYPE_CHECKING:
    from huiyan.engine import Store

_BASIS = {
    "own": "本组病例",
    "published": "发布权重",
    "shrunk_adrg": "向ADRG收缩",
    "shrunk_mdc": "向MDC收缩",
    "shrunk_published": "向发布权重收缩",
    "shrunk_all": "向全体均值收缩",
}

_SHEETS = {
    "DRG权重": (
        "select drg, n_cases, n_window, n_window - n_used, n_used, mean_cost, cv, raw_weight, "
        "weight, stable, basis, note from drg_standard order by drg",
        [
            "DRG组",
            "历史病例数",
            "测算年度病例数",
            "裁剪病例数",
            "裁剪后病例数",
            "组均费用",
            "变异系数",
            "原始权重",
            "最终权重",
            "稳定病组",
            "依据",
            "说明",
        ],
    ),
    "DIP病种": (
        "select dip_group, group_type, n_cases, mean_cost, score, ref_cost_lv1, ref_cost_lv2, "
        "ref_cost_lv3, primary_care, note from dip_catalog order by dip_group",
        [
            "DIP病种",
            "病种类型",
            "病例数",
            "次均费用",
            "分值",
            "一级A",
            "二级A",
            "三级A",
            "基层病种",
            "说明",
        ],
    ),
    "费率点值系数": (
        "select method, kind, value, budget, total_units, note from payment_rate order by 1, 2",
        ["支付方式", "类别", "值", "预算", "总权重/总分值", "说明"],
    ),
    "测算预警": (
        'select method, "group", parent, kind, before, after, message from pricing_warning '
        "order by 1, 3, 2",
        ["支付方式", "组", "ADRG", "类别", "调整前", "调整后", "说明"],
    ),
}


def _basis(code: str | None) -> str:
    if not code:
        return ""
    parts = code.split("+")
    text = _BASIS.get(parts[0], parts[0])
    return text + ("; 严重程度倒挂合并" if "severity" in parts[1:] else "")


def write_calibration_workbook(store: Store, path: str | Path) -> Path:
    """Write the calibration workbook (one sheet per table) to ``path``."""
    path = Path(path)
    wb = xlsxwriter.Workbook(str(path))
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    num = wb.add_format({"num_format": "#,##0.00####"})
    for title, (sql, cols) in _SHEETS.items():
        ws = wb.add_worksheet(title)
        ws.write_row(0, 0, cols, head)
        ws.freeze_panes(1, 1)
        rows = store.con.sql(sql).fetchall() if _has_all(store, sql) else []
        for i, row in enumerate(rows, start=1):
            for j, v in enumerate(row):
                if cols[j] == "依据":
                    ws.write_string(i, j, _basis(v))
                elif isinstance(v, bool):
                    ws.write_string(i, j, "是" if v else "否")
                elif isinstance(v, Decimal | float | int):
                    ws.write_number(i, j, float(v), num)
                elif v is None:
                    ws.write_blank(i, j, None)
                else:
                    ws.write_string(i, j, str(v))
        ws.set_column(0, len(cols) - 2, 14)
        ws.set_column(len(cols) - 1, len(cols) - 1, 60)
    wb.close()
    return path


def _has_all(store: Store, sql: str) -> bool:
    table = sql.split(" from ")[1].split()[0]
    return store.has(table)
