"""The run summary: what came in, what QC, grouping, pricing and audit found.

Figures are read from the store's tables with plain SQL: the summary is a view of results,
written by the pipeline, and shows a section only for the tables a run produced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from huiyan.engine import Store
from huiyan.model import TABLES, label


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


def _rows(store: Store, sql: str) -> list[list[Any]]:
    return [list(r) for r in store.con.sql(sql).fetchall()]


def _ingest(store: Store) -> Section | None:
    if not store.has("ingest_batch"):
        return None
    rows = _rows(
        store,
        """select table_name, sum(rows_read)::bigint, sum(rows_accepted)::bigint,
                  sum(rows_quarantined)::bigint
           from ingest_batch group by 1 order by 1""",
    )
    for r in rows:  # the table's Chinese label beside its interface name
        t = TABLES.get(str(r[0]))
        r[0] = f"{t.label} {r[0]}" if t is not None else r[0]
    return Section("数据导入 (读入 = 接收 + 隔离)", ["表", "读入", "接收", "隔离"], rows)


def _scope(store: Store) -> Section | None:
    if not store.has("case_scope"):
        return None
    rows = _rows(store, "select scope_reason, count(*) from case_scope group by 1 order by 2 desc")
    rows = [[label("scope_reason", r[0]), r[1]] for r in rows]
    return Section("DRG/DIP 付费范围", ["范围", "病例数"], rows)


def _qc(store: Store) -> Section | None:
    if not store.has("qc_issue"):
        return None
    rows = _rows(
        store,
        """select check_id, any_value(severity), count(*), count(distinct setl_id),
                  any_value(message)
           from qc_issue group by 1 order by 3 desc limit 15""",
    )
    rows = [[r[0], label("qc_severity", r[1]), r[2], r[3], r[4]] for r in rows]
    return Section("结算清单质控 (前15项)", ["规则", "级别", "问题数", "病例数", "示例"], rows)


def _qc_indicators(store: Store) -> Section | None:
    if not store.has("qc_indicator"):
        return None
    rows = _rows(
        store,
        """select indicator, sum(numerator)::bigint, sum(denominator)::bigint,
                  round(100.0 * sum(numerator) / nullif(sum(denominator), 0), 2)
           from qc_indicator group by 1 order by 1""",
    )
    rows = [
        [label("qc_indicator", r[0]), r[1], r[2], "—" if r[3] is None else f"{r[3]}%"] for r in rows
    ]
    return Section("质控四项指标 (全统筹区)", ["指标", "分子", "分母", "比率"], rows)


def _drg(store: Store) -> Section | None:
    if not store.has("drg_result"):
        return None
    rows = _rows(
        store,
        """select scheme, status, count(*),
                  round(100.0 * count(*) / sum(count(*)) over (partition by scheme), 2)
           from drg_result group by 1, 2 order by 1, 3 desc""",
    )
    rows = [[r[0], label("group_status", r[1]), r[2], f"{r[3]}%"] for r in rows]
    return Section("DRG 分组", ["方案", "状态", "病例数", "占比"], rows)


def _payment(store: Store) -> Section | None:
    if not store.has("payment"):
        return None
    rows = _rows(
        store,
        """select method, case_type, count(*), sum(standard_payment), sum(actual_cost),
                  sum(difference)
           from payment group by 1, 2 order by 1, 3 desc""",
    )
    rows = [[r[0], label("case_type", r[1]), r[2], r[3], r[4], r[5]] for r in rows]
    return Section(
        "模拟支付", ["方式", "病例类型", "病例数", "支付标准合计", "实际费用合计", "差额"], rows
    )


def _findings(store: Store) -> Section | None:
    if not store.has("finding"):
        return None
    rows = _rows(
        store,
        """select vola_bhvr_type, count(distinct setl_id),
                  count(*) filter (where sev_deg = '1'), count(*) filter (where sev_deg = '2'),
                  sum(vola_amt)
           from finding group by 1 order by 2 desc""",
    )
    rows = [[f"{label('vola_bhvr_type', r[0])} {r[0]}", *r[1:]] for r in rows]
    return Section("智能审核", ["违规类别", "病例数", "明确违规", "可疑", "涉及金额"], rows)


def _evaluation(store: Store, labels: Path | None) -> Section | None:
    if labels is None or not labels.is_file() or not store.has("finding"):
        return None
    store.con.execute(
        "create or replace temp table _labels as select distinct setl_id, vola_bhvr_type "
        "from read_csv(?, all_varchar=true)",
        [str(labels)],
    )
    rows = _rows(
        store,
        """with found as (select distinct setl_id, vola_bhvr_type from finding),
           classes as (select vola_bhvr_type from found union select vola_bhvr_type from _labels)
           select c.vola_bhvr_type,
                  (select count(*) from _labels l where l.vola_bhvr_type = c.vola_bhvr_type) planted,
                  (select count(*) from found f where f.vola_bhvr_type = c.vola_bhvr_type) flagged,
                  (select count(*) from found f join _labels l using (setl_id, vola_bhvr_type)
                    where f.vola_bhvr_type = c.vola_bhvr_type) hit
           from classes c order by 1""",
    )
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


def build_summary(store: Store, *, labels: Path | None = None) -> Summary:
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


def write_summary_html(store: Store, path: Path, *, labels: Path | None = None) -> Path:
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
