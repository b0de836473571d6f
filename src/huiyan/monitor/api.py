"""``monitor_store``: indicators, deviation warnings and anomaly warnings from a store's tables."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from huiyan.model.monitor_tables import INDICATOR
from huiyan.model.tables import WARNING
from huiyan.monitor import anomaly, evidence
from huiyan.monitor.cases import MonitorInputs, case_base, confirmed_amounts, store_inputs
from huiyan.monitor.indicators import PERIOD_TYPES, long_table, subject_sums
from huiyan.monitor.warnings import (
    LEVEL_LABEL,
    frame,
    history_warnings,
    peer_warnings,
)

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.engine import Engine

log = logging.getLogger(__name__)


@dataclass
class MonitorResult:
    indicators: pa.Table
    warnings: pa.Table
    notes: list[str] = field(default_factory=list)


def indicator_table(inp: MonitorInputs, cfg: dict[str, Any]) -> pa.Table:
    """The ``indicator`` table for ``inp`` (any Ibis backend)."""
    c = case_base(inp, cfg).cache()
    try:
        w = subject_sums(c, periods=tuple(p for p in PERIOD_TYPES if p in cfg["periods"]))
        return long_table(w).to_pyarrow()
    finally:
        c.release()


def monitor_store(
    store: Engine, config: dict[str, dict[str, Any]], decided: pa.Table | None = None
) -> MonitorResult:
    """Compute everything the monitor step writes (nothing is written here). ``decided``: the
    review workflow's final deductions (setl_id, vola_amt), read as confirmed amounts."""
    cfg = config["monitor"]
    with store.memory_limit(cfg["engine_memory_limit"]):
        return _monitor(store, config, decided)


def _monitor(
    store: Engine, config: dict[str, dict[str, Any]], decided: pa.Table | None
) -> MonitorResult:
    cfg = config["monitor"]
    inp = store_inputs(store, config, decided)
    _, confirmed_source = confirmed_amounts(inp)
    c = store.materialize(case_base(inp, cfg))
    try:
        periods = tuple(p for p in PERIOD_TYPES if p in cfg["periods"] or p == cfg["warn_period"])
        if "month" not in periods:
            periods = ("month", *periods)
        ind = store.to_arrow(long_table(subject_sums(c, periods=periods)))
        values = _judged_values(ind, cfg)
        values = values[~values.period.isin(_incomplete(values, cfg))]
        warns = _deviation_warnings(c, values, cfg)
        scores = anomaly.case_cost_scores(c, cfg["anomaly"]["case_cost"])
        counts, anomalous = anomaly.case_cost_counts(
            scores, cfg["anomaly"]["case_cost"]["z"], cfg["warn_period"]
        )
        extra = [
            anomaly.case_cost_warnings(
                counts.to_pandas(), anomalous.to_pandas(), cfg["anomaly"], cfg["min_cases"]
            ),
            anomaly.isolation_warnings(
                values, {**cfg["anomaly"], **_shared(cfg)}, cfg["indicators"]
            ),
            cost_shift_warnings(values, cfg),
        ]
    finally:
        store.release(c)
    found = [w for w in (warns, *extra) if len(w)]
    all_w = pd.concat(found, ignore_index=True) if found else pd.DataFrame()
    notes = [
        f"监测指标 {ind.num_rows:,} 行, 预警 {len(all_w):,} 条",
        "确认扣减金额取自人工复核结果"
        if confirmed_source == "review"
        else "未找到人工复核结果, 确认扣减金额按明确违规(sev_deg=1)的审核发现计",
    ]
    if inp.mz_setl is None:
        notes.append("未提供门诊结算(mz_setl), 未做费用转移监测")
    keep = list(cfg["periods"])
    ind = ind.filter(pc.is_in(ind.column("period_type"), pa.array(keep)))
    return MonitorResult(ind.select(INDICATOR.columns), _warning_table(all_w), notes)


def _judged_values(ind: pa.Table, cfg: dict[str, Any]) -> pd.DataFrame:
    """The indicator rows warnings read (warn period and months; watched indicators, the
    anomaly features and case counts), as pandas with plain object strings (faster here)."""
    watched = {k for k, d in cfg["indicators"].items() if d.get("direction", "none") != "none"}
    wanted = watched | set(cfg["anomaly"]["isolation_forest"]["features"])
    wanted |= {"cases", "cost_per_case", "preadm_outpatient_per_case"}
    keep = pc.and_(
        pc.is_in(ind.column("period_type"), pa.array(["month", cfg["warn_period"]])),
        pc.is_in(ind.column("indicator"), pa.array(sorted(wanted))),
    )
    values = frame(ind.filter(keep).to_pandas())
    for col in ("level", "subject", "medins_code", "peer", "period_type", "period", "indicator"):
        values[col] = values[col].astype(object)
    return values


def _incomplete(values: pd.DataFrame, cfg: dict[str, Any]) -> set[str]:
    """Periods holding far fewer discharges than usual (the data start or end inside them):
    their case mix is biased (e.g. only long stays admitted earlier), so they are not judged."""
    v = values[
        (values.level == "institution")
        & (values.indicator == "cases")
        & values.period_type.isin(["month", cfg["warn_period"]])
    ]
    out: set[str] = set()
    for _, g in v.groupby("period_type"):
        total = g.groupby("period").value.sum()
        out |= set(total[total < cfg["min_period_share"] * total.median()].index)
    return out


def _shared(cfg: dict[str, Any]) -> dict[str, Any]:
    return {"warn_period": cfg["warn_period"], "min_cases": cfg["min_cases"]}


def _deviation_warnings(c: ir.Table, values: pd.DataFrame, cfg: dict[str, Any]) -> pd.DataFrame:
    parts = [peer_warnings(values, cfg), history_warnings(values, cfg)]
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame()
    w = pd.concat(parts, ignore_index=True)
    w["evidence"] = _evidence(c, w, cfg)
    return w


def _evidence(c: ir.Table, w: pd.DataFrame, cfg: dict[str, Any]) -> list[str]:
    """Only the cases of warned institution-periods, and only the columns the warned
    indicators need, leave the engine."""
    period_col = cfg["warn_period"]
    subj_col = {"institution": "medins_code", "department": "dept", "doctor": "doctor"}
    needed = {"setl_id", "medins_code", "dept", "doctor", period_col, "drg"}
    for ind in set(w.indicator):
        needed |= set(evidence.CASE_TERMS.get(ind, ()))
    for helper, sources in evidence.HELPER_SOURCES.items():
        if helper in needed:
            needed |= set(sources)
    cols = [col for col in c.columns if col in needed]
    pairs = sorted({f"{m}|{p}" for m, p in zip(w.medins_code, w.period, strict=True)})
    key = c.medins_code + "|" + c[period_col]
    cases = evidence.prepare(c.filter(key.isin(pairs)).select(*cols).to_pandas())
    groups = {k: g for k, g in cases.groupby(["medins_code", period_col])}  # noqa: C416
    out = []
    for r in w.to_dict("records"):
        g = groups.get((r["medins_code"], r["period"]))
        if g is None:
            out.append("")
            continue
        g = g[g[subj_col[r["level"]]] == r["subject"]]
        direction = cfg["indicators"][r["indicator"]]["direction"]
        out.append(
            evidence.describe(g, r["indicator"], r["peer_value"], direction, cfg["evidence"])
        )
    return out


def cost_shift_warnings(values: pd.DataFrame, cfg: dict[str, Any]) -> pd.DataFrame:
    """Institutions whose pre-admission outpatient spend per case rises while inpatient cost falls."""
    cs = cfg["cost_shift"]
    v = values[
        (values.level == "institution")
        & (values.period_type == cfg["warn_period"])
        & values.indicator.isin(["preadm_outpatient_per_case", "cost_per_case"])
    ]
    if v.empty or "preadm_outpatient_per_case" not in set(v.indicator):
        return pd.DataFrame()
    x = v.pivot_table(index=["subject", "period"], columns="indicator", values="value")
    n = v[v.indicator == "cost_per_case"].set_index(["subject", "period"]).n
    rows = []
    min_base = cfg["history"]["min_baseline_periods"]
    for subject, g in x.groupby(level=0):
        g = g.droplevel(0).sort_index()
        for i in range(min_base, len(g)):
            period = g.index[i]
            if n.get((subject, period), 0) < cfg["min_cases"]["institution"]:
                continue
            pre0, cost0 = (
                g.iloc[:i].preadm_outpatient_per_case.mean(),
                g.iloc[:i].cost_per_case.mean(),
            )
            pre1, cost1 = g.iloc[i].preadm_outpatient_per_case, g.iloc[i].cost_per_case
            if pre0 <= 0 or cost0 <= 0:
                continue
            rise, change = pre1 / pre0 - 1, cost1 / cost0 - 1
            if rise < cs["min_rise"] or change > -cs["min_fall"]:
                continue
            rows.append(
                {
                    "level": "institution",
                    "subject": subject,
                    "medins_code": subject,
                    "indicator": "preadm_outpatient_per_case",
                    "period": period,
                    "value": pre1,
                    "peer_value": pre0,
                    "deviation": rise,
                    "severity": "medium",
                    "method": "history",
                    "message": (
                        f"{LEVEL_LABEL['institution']}{subject} {period} 入院前{cs['days_before']}天"
                        f"门诊费用每例 {pre1:,.0f}元, 较既往 {pre0:,.0f}元 上升 {rise:.0%},"
                        f"同期住院次均费用 {cost1:,.0f}元 较既往 {cost0:,.0f}元 变化 {change:+.0%},"
                        "疑似费用转移至门诊"
                    ),
                    "evidence": "",
                }
            )
    return pd.DataFrame(rows)


def _warning_table(w: pd.DataFrame) -> pa.Table:
    cols = WARNING.columns
    if w.empty:
        return pa.table({c: pa.array([], WARNING.by_name[c].type) for c in cols})
    w = w.sort_values(["level", "subject", "period", "method", "indicator"]).reset_index(drop=True)
    w["evidence"] = w["evidence"].fillna("")
    return pa.Table.from_pandas(w[list(cols)], preserve_index=False)
