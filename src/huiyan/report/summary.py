"""The run summary: what came in, what QC, grouping, pricing and audit found.

Figures are read from the engine's tables with Ibis: the summary is a view of results,
written by the pipeline, and shows a section only for the tables a run produced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from huiyan.model import TABLES, label
from huiyan.model.domain import settled_findings

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.engine import Engine


@dataclass
class Section:
    """One titled table of the summary."""

    title: str
    columns: list[str]
    rows: list[list[object]]
    note: str = ""


@dataclass
class Summary:
    sections: list[Section] = field(default_factory=list)
    generated_at: str = field(default_factory=lambda: datetime.now().strftime("%Y-%m-%d %H:%M"))


def _rows(store: Engine, expr: ir.Table) -> list[list[Any]]:
    return [list(r.values()) for r in store.to_arrow(expr).to_pylist()]


def _ingest(store: Engine) -> Section | None:
    if not store.has("ingest_batch"):
        return None
    t = store.table("ingest_batch")
    agg = t.group_by("table_name").aggregate(
        read=t.rows_read.sum().cast("int64"),
        accepted=t.rows_accepted.sum().cast("int64"),
        quarantined=t.rows_quarantined.sum().cast("int64"),
    )
    rows = _rows(store, agg.order_by("table_name"))
    for r in rows:  # the table's Chinese label beside its interface name
        tbl = TABLES.get(str(r[0]))
        r[0] = f"{tbl.label} {r[0]}" if tbl is not None else r[0]
    return Section("数据导入 (读入 = 接收 + 隔离)", ["表", "读入", "接收", "隔离"], rows)


def _scope(store: Engine) -> Section | None:
    if not store.has("case_scope"):
        return None
    t = store.table("case_scope")
    agg = t.group_by("scope_reason").aggregate(n=t.count())
    rows = _rows(store, agg.order_by([agg.n.desc(), "scope_reason"]))
    rows = [[label("scope_reason", r[0]), r[1]] for r in rows]
    return Section("DRG/DIP 付费范围", ["范围", "病例数"], rows)


def _qc(store: Engine) -> Section | None:
    if not store.has("qc_issue"):
        return None
    t = store.table("qc_issue")
    agg = t.group_by("check_id").aggregate(
        severity=t.severity.min(),
        n=t.count(),
        cases=t.setl_id.nunique(),
        # One message per check, the same on every run (a report must not change by itself).
        message=t.message.min(),
    )
    rows = _rows(store, agg.order_by([agg.n.desc(), "check_id"]).limit(15))
    rows = [[r[0], label("qc_severity", r[1]), r[2], r[3], r[4]] for r in rows]
    return Section("结算清单质控 (前15项)", ["规则", "级别", "问题数", "病例数", "示例"], rows)


def _qc_indicators(store: Engine) -> Section | None:
    if not store.has("qc_indicator"):
        return None
    t = store.table("qc_indicator")
    agg = t.group_by("indicator").aggregate(
        num=t.numerator.sum().cast("int64"), den=t.denominator.sum().cast("int64")
    )
    rate = (100.0 * agg.num / agg.den.nullif(0)).round(2)
    rows = _rows(store, agg.mutate(rate=rate).order_by("indicator"))
    rows = [
        [label("qc_indicator", r[0]), r[1], r[2], "—" if r[3] is None else f"{r[3]}%"] for r in rows
    ]
    return Section("质控四项指标 (全统筹区)", ["指标", "分子", "分母", "比率"], rows)


def _drg(store: Engine) -> Section | None:
    if not store.has("drg_result"):
        return None
    t = store.table("drg_result")
    agg = t.group_by(["scheme", "status"]).aggregate(n=t.count())
    share = (100.0 * agg.n / agg.n.sum().over(group_by=agg.scheme)).round(2)
    rows = _rows(store, agg.mutate(share=share).order_by(["scheme", agg.n.desc(), "status"]))
    rows = [[r[0], label("group_status", r[1]), r[2], f"{r[3]}%"] for r in rows]
    return Section("DRG 分组", ["方案", "状态", "病例数", "占比"], rows)


def _payment(store: Engine) -> Section | None:
    if not store.has("payment"):
        return None
    t = store.table("payment")
    agg = t.group_by(["method", "case_type"]).aggregate(
        n=t.count(),
        standard=t.standard_payment.sum(),
        actual=t.actual_cost.sum(),
        difference=t["difference"].sum(),
    )
    rows = _rows(store, agg.order_by(["method", agg.n.desc(), "case_type"]))
    rows = [[r[0], label("case_type", r[1]), r[2], r[3], r[4], r[5]] for r in rows]
    return Section(
        "模拟支付", ["方式", "病例类型", "病例数", "支付标准合计", "实际费用合计", "差额"], rows
    )


def _findings(store: Engine) -> Section | None:
    if not store.has("finding"):
        return None
    t = settled_findings(store.table("finding"))
    agg = t.group_by("vola_bhvr_type").aggregate(
        cases=t.setl_id.nunique(),
        definite=t.count(where=t.sev_deg == "1"),
        suspect=t.count(where=t.sev_deg == "2"),
        amount=t.vola_amt.sum(),
    )
    rows = _rows(store, agg.order_by([agg.cases.desc(), "vola_bhvr_type"]))
    rows = [[f"{label('vola_bhvr_type', r[0])} {r[0]}", *r[1:]] for r in rows]
    return Section("智能审核", ["违规类别", "病例数", "明确违规", "可疑", "涉及金额"], rows)


def _evaluation(store: Engine, labels: Path | None) -> Section | None:
    if labels is None or not labels.is_file() or not store.has("finding"):
        return None
    from huiyan.audit.evaluate import read_labels

    lab = read_labels(labels)
    planted_pairs = set(
        zip(
            lab.column("setl_id").to_pylist(), lab.column("vola_bhvr_type").to_pylist(), strict=True
        )
    )
    f = settled_findings(store.table("finding")).select("setl_id", "vola_bhvr_type").distinct()
    found = {(r["setl_id"], r["vola_bhvr_type"]) for r in store.to_arrow(f).to_pylist()}
    classes = {c for _, c in found} | {c for _, c in planted_pairs}
    rows = []
    for cls in sorted(classes, key=lambda c: (c is None, c or "")):
        # A missing class matches nothing (SQL equality with NULL), as before.
        planted = sum(1 for _, c in planted_pairs if c == cls and cls is not None)
        flagged = sum(1 for _, c in found if c == cls and cls is not None)
        hit = sum(1 for p in found & planted_pairs if p[1] == cls and cls is not None)
        rows.append((cls, planted, flagged, hit))
    out = []
    for cls, planted, flagged, hit in rows:
        precision = hit / flagged if flagged else None
        recall = hit / planted if planted else None
        out.append([cls, planted, flagged, hit, _pct(precision), _pct(recall)])
    return Section(
        "检出效果 (对照植入标签)", ["类别", "植入", "检出", "命中", "精确率", "召回率"], out
    )


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def build_summary(store: Engine, *, labels: Path | None = None) -> Summary:
    """Every section the store has results for."""
    parts = [
        _ingest(store),
        _scope(store),
        _qc(store),
        _drg(store),
        _payment(store),
        _findings(store),
    ]
    parts.append(_evaluation(store, labels))
    return Summary(sections=[p for p in parts if p is not None])


def fmt(value: object) -> str:
    """A cell as text: thousands separators for numbers (money to the fen), empty for missing."""
    from decimal import Decimal

    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, Decimal | float):
        return f"{value:,.2f}"
    return str(value)


def write_summary_html(store: Engine, path: Path, *, labels: Path | None = None) -> Path:
    """Write the summary as a self-contained HTML page (Chinese) and return its path."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("huiyan.report"), autoescape=select_autoescape())
    env.filters["fmt"] = fmt
    from huiyan.report.monitor_workbook import monitor_html

    html = env.get_template("summary.html.j2").render(
        summary=build_summary(store, labels=labels), monitor=monitor_html(store)
    )
    path.write_text(html, encoding="utf-8")
    return path
