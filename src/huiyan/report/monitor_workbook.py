"""监测预警 Excel workbook: effect-evaluation series with native line charts, and the warnings."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

import ibis
import xlsxwriter

from huiyan.monitor.evaluate import REGION, SERIES, series

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.engine import Engine

_LEVEL = {"institution": "机构", "department": "科室", "doctor": "医师"}
_SEVERITY = {"high": "高", "medium": "中", "low": "低"}
_METHOD = {"peer": "同级偏离", "history": "自身历史", "anomaly": "异常模型"}
_WARN_COLS = (
    "层级",
    "对象",
    "期间",
    "指标",
    "指标值",
    "参照值",
    "偏离度",
    "等级",
    "方法",
    "说明",
    "证据",
)


def write_workbook(store: Engine, path: str | Path) -> Path:
    """Write the monitoring workbook to ``path`` (needs the monitor step's tables)."""
    path = Path(path)
    ind = store.read("indicator").to_pandas() if store.has("indicator") else None
    wb = xlsxwriter.Workbook(str(path))
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    num = wb.add_format({"num_format": "#,##0.0000"})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    s = series(ind) if ind is not None else None
    ws = wb.add_worksheet("效果评估")
    if s is None or s.empty:
        ws.write(0, 0, "没有监测指标: 请先运行 huiyan monitor")
    else:
        _series_sheet(wb, ws, s, head, num)
    _warnings_sheet(wb, store, head, num, wrap)
    wb.close()
    return path


def _series_sheet(wb, ws, s, head, num) -> None:  # noqa: ANN001 (xlsxwriter objects)
    periods = sorted(s.period.unique())
    scopes = [REGION] + sorted(x for x in s.scope.unique() if x != REGION)
    row = 0
    for name, label in SERIES.items():
        d = s[s.indicator == name].pivot_table(index="period", columns="scope", values="value")
        ws.write(row, 0, label, head)
        ws.write_row(row + 1, 0, ["期间", *scopes], head)
        for i, p in enumerate(periods):
            ws.write(row + 2 + i, 0, p)
            for j, sc in enumerate(scopes, start=1):
                v = d.get(sc, {}).get(p) if sc in d.columns else None
                if v is not None and v == v:
                    ws.write_number(row + 2 + i, j, float(v), num)
        chart = wb.add_chart({"type": "line"})
        last = row + 1 + len(periods)
        for j in range(1, min(len(scopes), 9) + 1):  # region plus up to 8 institutions
            chart.add_series(
                {
                    "name": ["效果评估", row + 1, j],
                    "categories": ["效果评估", row + 2, 0, last, 0],
                    "values": ["效果评估", row + 2, j, last, j],
                }
            )
        chart.set_title({"name": f"{label} 月度趋势"})
        chart.set_size({"width": 720, "height": 300})
        ws.insert_chart(row, len(scopes) + 2, chart)
        row = max(last + 2, row + 17)
    ws.set_column(0, 0, 10)
    ws.set_column(1, len(scopes), 14)


def _severity_rank(w: ir.Table) -> ir.IntegerValue:
    return ibis.cases((w.severity == "high", 0), (w.severity == "medium", 1), else_=2)


def _warnings_sheet(wb, store, head, num, wrap) -> None:  # noqa: ANN001
    ws = wb.add_worksheet("预警清单")
    ws.write_row(0, 0, _WARN_COLS, head)
    ws.freeze_panes(1, 0)
    if not store.has("warning"):
        return
    w = store.table("warning")
    cols = ["level", "subject", "period", "indicator", "value", "peer_value", "deviation"]
    cols += ["severity", "method", "message", "evidence"]
    ordered = w.order_by([_severity_rank(w), "level", "subject", "period"]).select(*cols)
    rows = [tuple(r.values()) for r in store.to_arrow(ordered).to_pylist()]
    for i, r in enumerate(rows, start=1):
        ws.write_row(i, 0, [_LEVEL.get(r[0], r[0]), r[1], r[2], r[3]])
        for j in (4, 5, 6):
            if r[j] is not None:
                ws.write_number(i, j, float(r[j]), num)
        ws.write_row(i, 7, [_SEVERITY.get(r[7], r[7]), _METHOD.get(r[8], r[8])])
        ws.write(i, 9, r[9], wrap)
        ws.write(i, 10, r[10], wrap)
    ws.set_column(0, 0, 8)
    ws.set_column(1, 1, 24)
    ws.set_column(2, 8, 12)
    ws.set_column(9, 10, 60)


_COLORS = ("#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b83280", "#718096")


def _svg_line(title: str, periods: list[str], lines: dict[str, list[float | None]]) -> str:
    """A small self-contained SVG line chart (no script), one polyline per series."""
    w, h, left, bottom = 640, 220, 70, 40
    values = [v for vs in lines.values() for v in vs if v is not None and v == v]
    if not values or not periods:
        return ""
    lo, hi = min(values), max(values)
    hi = hi if hi > lo else lo + 1.0
    step = (w - left - 20) / max(1, len(periods) - 1)

    def xy(i: int, v: float) -> str:
        return f"{left + i * step:.1f},{h - bottom - (v - lo) / (hi - lo) * (h - bottom - 20):.1f}"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h + 20 * len(lines)}" '
        f'role="img" aria-label="{escape(title)}">',
        f'<text x="{left}" y="14" font-size="13">{escape(title)}</text>',
        f'<line x1="{left}" y1="{h - bottom}" x2="{w - 10}" y2="{h - bottom}" stroke="#999"/>',
        f'<text x="4" y="{h - bottom}" font-size="11">{lo:,.4g}</text>',
        f'<text x="4" y="26" font-size="11">{hi:,.4g}</text>',
    ]
    for i, p in enumerate(periods):
        if i % max(1, len(periods) // 8) == 0:
            parts.append(
                f'<text x="{left + i * step - 18:.1f}" y="{h - bottom + 16}" font-size="10">{p}</text>'
            )
    for k, (name, vs) in enumerate(lines.items()):
        color = _COLORS[k % len(_COLORS)]
        pts = " ".join(xy(i, v) for i, v in enumerate(vs) if v is not None and v == v)
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{pts}"/>')
        parts.append(
            f'<text x="{left}" y="{h + 14 * (k + 1)}" font-size="11" fill="{color}">'
            f"■ {escape(name)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def monitor_html(store: Engine, *, institutions: int = 4, warnings: int = 30) -> str:
    """The monitoring section of the HTML report: the effect series as SVG charts (region and
    the institutions with most cases) and the most severe warnings. Empty without results."""
    if not store.has("indicator") or not store.count("indicator"):
        return ""
    s = series(store.read("indicator").to_pandas())
    if s.empty:
        return ""
    periods = sorted(s.period.unique())
    ind = store.table("indicator")
    cases = ind.filter(
        (ind.level == "institution") & (ind.period_type == "month") & (ind.indicator == "cases")
    )
    sums = cases.group_by("subject").aggregate(total=cases.value.sum())
    top = sums.order_by([sums.total.desc(), "subject"]).limit(institutions).select("subject")
    scopes = [REGION] + store.to_arrow(top).column("subject").to_pylist()
    html = ["<h2>监测预警 · 效果评估</h2>"]
    for name, label in SERIES.items():
        d = s[s.indicator == name].pivot_table(index="period", columns="scope", values="value")
        lines = {
            sc: [float(d[sc][p]) if sc in d and p in d.index else None for p in periods]
            for sc in scopes
        }
        html.append(_svg_line(f"{label} 月度趋势", periods, lines))
    if store.has("warning"):
        w = store.table("warning")
        worst = w.order_by([_severity_rank(w), w.deviation.desc()]).limit(warnings)
        worst = worst.select("level", "subject", "period", "severity", "message", "evidence")
        rows = [tuple(r.values()) for r in store.to_arrow(worst).to_pylist()]
        total = store.count("warning")
        html.append(f"<h2>预警清单 (共 {total} 条, 显示前 {len(rows)} 条)</h2><table>")
        html.append(
            "<tr><th>层级</th><th>对象</th><th>期间</th><th>等级</th><th>说明</th><th>证据</th></tr>"
        )
        for r in rows:
            cells = [_LEVEL.get(r[0], r[0]), r[1], r[2], _SEVERITY.get(r[3], r[3]), r[4], r[5]]
            html.append(
                "<tr>" + "".join(f"<td>{escape(str(c or ''))}</td>" for c in cells) + "</tr>"
            )
        html.append("</table>")
    return "\n".join(h for h in html if h)
