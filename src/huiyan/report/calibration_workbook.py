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
    from collections.abc import Callable

    import ibis.expr.types as ir

    from huiyan.engine import Engine

# Sheet title -> (table, its columns in sheet order, row order, Chinese headers).
_Sheet = tuple[str, "Callable[[ir.Table], list[ir.Value]]", list[str], list[str]]

_BASIS = {
    "own": "本组病例",
    "published": "发布权重",
    "shrunk_adrg": "向ADRG收缩",
    "shrunk_mdc": "向MDC收缩",
    "shrunk_published": "向发布权重收缩",
    "shrunk_all": "向全体均值收缩",
}

_SHEETS: dict[str, _Sheet] = {
    "DRG权重": (
        "drg_standard",
        lambda t: [
            t.drg,
            t.n_cases,
            t.n_window,
            (t.n_window - t.n_used).name("n_trimmed"),
            *(t[c] for c in ("n_used", "mean_cost", "cv", "raw_weight", "weight", "stable")),
            t.basis,
            t.note,
        ],
        ["drg"],
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
        "dip_catalog",
        lambda t: [
            t[c]
            for c in (
                "dip_group",
                "group_type",
                "n_cases",
                "mean_cost",
                "score",
                "ref_cost_lv1",
                "ref_cost_lv2",
                "ref_cost_lv3",
                "primary_care",
                "note",
            )
        ],
        ["dip_group"],
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
        "payment_rate",
        lambda t: [t[c] for c in ("method", "kind", "value", "budget", "total_units", "note")],
        ["method", "kind"],
        ["支付方式", "类别", "值", "预算", "总权重/总分值", "说明"],
    ),
    "测算预警": (
        "pricing_warning",
        lambda t: [
            t[c] for c in ("method", "group", "parent", "kind", "before", "after", "message")
        ],
        ["method", "parent", "group"],
        ["支付方式", "组", "ADRG", "类别", "调整前", "调整后", "说明"],
    ),
}


def _basis(code: str | None) -> str:
    if not code:
        return ""
    parts = code.split("+")
    text = _BASIS.get(parts[0], parts[0])
    return text + ("; 严重程度倒挂合并" if "severity" in parts[1:] else "")


def write_calibration_workbook(store: Engine, path: str | Path) -> Path:
    """Write the calibration workbook (one sheet per table) to ``path``."""
    path = Path(path)
    wb = xlsxwriter.Workbook(str(path))
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    num = wb.add_format({"num_format": "#,##0.00####"})
    for title, (name, columns, order, cols) in _SHEETS.items():
        ws = wb.add_worksheet(title)
        ws.write_row(0, 0, cols, head)
        ws.freeze_panes(1, 1)
        rows = []
        if store.has(name):
            t = store.table(name)
            got = store.to_arrow(t.order_by(order).select(*columns(t)))
            rows = [tuple(r.values()) for r in got.to_pylist()]
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
