"""DRG standards from history: weights on complete years, shrinkage, severity order, levels, rate.

``derive_drg_standards`` trims and sums on the engine (exact decimal sums per DRG × year × level)
and does the per-group arithmetic of ``calibrate.py`` in Python Decimal. Every group carries
why its weight is what it is (``basis``, ``note``), which the calibration workbook shows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import ibis
import pyarrow as pa

from huiyan.model.domain import year_weights
from huiyan.model.exact import q6
from huiyan.model.payment_tables import DRG_STANDARD, PRICING_WARNING
from huiyan.model.tables import DRG_WEIGHT
from huiyan.pricing.calibrate import (
    Cell,
    complete_years,
    level_coefficients,
    monotone,
    severity_chains,
    shrink,
    weighted_mean,
)
from huiyan.pricing.weights import trim

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.engine import Engine


@dataclass
class Window:
    """The calibration years (complete ones) and their history weights."""

    weights: dict[int, Decimal]
    notes: list[str] = field(default_factory=list)

    @property
    def base_year(self) -> int:
        return max(self.weights)


def calibration_window(base: ir.Table, config: dict[str, dict[str, Any]]) -> Window:
    """Complete years of in-scope discharges (``payment.calibration``) and their 1:2:7 weights."""
    cal = config["payment"]["calibration"]
    hist = [float(w) for w in config["payment"]["history"]["year_weights"]]
    b = base.filter(base.in_scope)
    rows = b.group_by(["year", "month"]).aggregate(n=b.count()).to_pyarrow().to_pylist()
    months: dict[int, dict[int, int]] = defaultdict(dict)
    for r in rows:
        months[int(r["year"])][int(r["month"])] = int(r["n"])
    years = complete_years(
        months,
        min_month_share=float(cal["min_month_share"]),
        min_year_share=float(cal["min_year_share"]),
    )
    notes = []
    partial = sorted(set(months) - set(years))
    if partial:
        notes.append(
            "测算只用完整年度: 不完整年度 "
            + ", ".join(
                f"{y} ({sum(months[y].values())} 例, {len(months[y])} 个月)" for y in partial
            )
            + " 不参与测算"
        )
    if not years:
        years = sorted(months)
        notes.append("没有完整年度, 测算使用全部年度")
    return Window(year_weights(years, hist), notes)


def cells(t: ir.Table, key: str) -> list[Cell]:
    """Exact sums per ``key`` × year × level of ``t`` (columns key, year, medins_lv, cost_amt)."""
    amt = t.cost_amt.cast("decimal(18, 2)")
    agg = t.group_by([key, "year", "medins_lv"]).aggregate(
        n=t.count(),
        s=amt.sum().cast("decimal(38, 2)"),
        s2=(amt * amt).cast("decimal(38, 4)").sum().cast("decimal(38, 4)"),
    )
    out = [
        Cell(r[key], int(r["year"]), r["medins_lv"] or "", int(r["n"]), r["s"], r["s2"])
        for r in agg.to_pyarrow().to_pylist()
    ]
    return sorted(out, key=lambda c: (c.group, c.year, c.level))


def per_year(cs: list[Cell]) -> dict[str, dict[int, tuple[int, Decimal]]]:
    """``{group: {year: (n, Σ cost)}}`` over all levels."""
    out: dict[str, dict[int, list[Any]]] = defaultdict(lambda: defaultdict(lambda: [0, Decimal(0)]))
    for c in cs:
        acc = out[c.group][c.year]
        acc[0] += c.n
        acc[1] += c.cost
    return {g: {y: (v[0], v[1]) for y, v in ys.items()} for g, ys in out.items()}


def pooled(cs: list[Cell], key: Any) -> dict[str, list[Cell]]:
    """Cells re-keyed by ``key(group)`` (e.g. the ADRG of a DRG)."""
    out: dict[str, list[Cell]] = defaultdict(list)
    for c in cs:
        out[key(c.group)].append(Cell(key(c.group), c.year, c.level, c.n, c.cost, c.cost2))
    return out


def exact_cv(cs: list[Cell]) -> Decimal | None:
    """Population CV of the cells' cases from exact sums."""
    n = sum(c.n for c in cs)
    if n == 0:
        return None
    s = sum((c.cost for c in cs), Decimal(0))
    s2 = sum((c.cost2 for c in cs), Decimal(0))
    mean = s / n
    if mean == 0:
        return None
    var = max(s2 / n - mean * mean, Decimal(0))
    return q6(var.sqrt() / mean)


@dataclass
class DrgStandards:
    table: pa.Table  # drg_standard rows
    coefficients: dict[str, Decimal]
    coefficient_source: str
    warnings: list[dict[str, Any]]
    window: Window
    notes: list[str]


def _coefficients(
    p: dict[str, Any], drg_cells: list[Cell], window: Window
) -> tuple[dict[str, Decimal], str]:
    if p["coefficients"] != "derive":
        return {str(k): q6(v) for k, v in p["coefficients"].items()}, "published"
    py = per_year(drg_cells)
    means = {
        g: sum((s for _n, s in ys.values()), Decimal(0)) / sum(n for n, _s in ys.values())
        for g, ys in py.items()
    }
    return level_coefficients(drg_cells, means), "derived"


def derive_drg_standards(
    store: Engine, grouped: ir.Table, window: Window, config: dict[str, dict[str, Any]]
) -> DrgStandards:
    """Weights of every DRG with cases, plus published ones; coefficients by level."""
    p = config["payment"]["drg"]
    cal = config["payment"]["calibration"]
    scheme = config["grouping"]["payment_scheme"]
    m = int(cal["min_cases"])
    wy = window.weights
    in_window = grouped.filter(grouped.year.isin(list(wy)))
    counts = {
        r["drg"]: (int(r["n"]), int(r["nw"]))
        for r in grouped.group_by("drg")
        .aggregate(n=grouped.count(), nw=grouped.year.isin(list(wy)).sum())
        .to_pyarrow()
        .to_pylist()
    }
    kept = trim(in_window, "drg", p["trim"])
    cs = cells(kept, "drg")
    by_drg = per_year(cs)
    all_cells = pooled(cs, lambda g: "*")["*"] if cs else []
    grand = weighted_mean(per_year(all_cells).get("*", {}), wy) if all_cells else None
    if not grand:
        grand = Decimal(1)
    n_of: dict[str, int] = {g: sum(n for n, _s in ys.values()) for g, ys in by_drg.items()}

    def pool_weight(key: Any) -> dict[str, tuple[Decimal | None, int]]:
        out = {}
        for k, kc in pooled(cs, key).items():
            ys = per_year(kc)[k]
            wm = weighted_mean(ys, wy)
            out[k] = (wm / grand if wm is not None else None, sum(n for n, _s in ys.values()))
        return out

    adrg = pool_weight(lambda g: g[:3])
    mdc = pool_weight(lambda g: g[:1])
    pub_rows = (
        store.table(DRG_WEIGHT.name)
        .filter(lambda t: t.scheme == scheme)
        .select("drg", "weight", "avg_cost")
        .to_pyarrow()
        .to_pylist()
    )
    published = {r["drg"]: r for r in pub_rows}
    pub_mode = str(cal["published_weights"])

    rows: dict[str, dict[str, Any]] = {}
    for g in sorted(set(counts) | set(published)):
        n_cases, n_window = counts.get(g, (0, 0))
        n_used = n_of.get(g, 0)
        wm = weighted_mean(by_drg.get(g, {}), wy)
        raw = q6(wm / grand) if wm is not None else None
        row: dict[str, Any] = {
            "drg": g,
            "n_cases": n_cases,
            "n_window": n_window,
            "n_used": n_used,
            "mean_cost": wm.quantize(Decimal("0.01")) if wm is not None else None,
            "cv": exact_cv([c for c in cs if c.group == g]) if g in by_drg else None,
            "raw_weight": raw,
        }
        if g in published and pub_mode == "replace":
            row.update(
                weight=q6(published[g]["weight"]),
                source="published",
                basis="published",
                note="采用发布权重",
            )
        elif n_used >= m:
            row.update(
                weight=raw,
                source="derived",
                basis="own",
                note=f"本组裁剪后 {n_used} 例 ≥ {m}, 用本组权重",
            )
        else:
            prior, label = _prior(g, published if pub_mode == "prior" else {}, adrg, mdc, m)
            row.update(
                weight=shrink(raw, n_used, prior, m),
                source="derived",
                basis=label[0],
                note=f"本组裁剪后 {n_used} 例 < {m}, 按 {n_used}/{m} 向{label[1]}收缩",
            )
        rows[g] = row

    warnings = _severity(rows, str(cal["severity_order"]))
    coefficients, coef_source = _coefficients(p, cs, window)
    stable_min, max_cv = int(p["min_cases"]), Decimal(str(p["max_cv"]))
    out = []
    for r in rows.values():
        cv = r["cv"]
        stable = r["source"] == "published" or (
            r["n_used"] >= stable_min and (cv is None or cv <= max_cv)
        )
        out.append({**r, "scheme": scheme, "stable": stable})
    cols = DRG_STANDARD.columns
    table = pa.table({c: pa.array([r.get(c) for r in out], DRG_STANDARD[c].type) for c in cols})
    return DrgStandards(table, coefficients, coef_source, warnings, window, list(window.notes))


def _prior(
    g: str,
    published: dict[str, dict[str, Any]],
    adrg: dict[str, tuple[Decimal | None, int]],
    mdc: dict[str, tuple[Decimal | None, int]],
    m: int,
) -> tuple[Decimal, tuple[str, str]]:
    """The weight a small group shrinks toward: published, else its ADRG, MDC, or all cases."""
    if g in published:
        return Decimal(str(published[g]["weight"])), ("shrunk_published", "发布权重")
    for pool, key, label in ((adrg, g[:3], "ADRG"), (mdc, g[:1], "MDC")):
        w, n = pool.get(key, (None, 0))
        if w is not None and n >= m:
            return w, (f"shrunk_{label.lower()}", f"{label} {key} ({n} 例)")
    return Decimal(1), ("shrunk_all", "全部病例均值")


def _severity(rows: dict[str, dict[str, Any]], mode: str) -> list[dict[str, Any]]:
    """MCC ≥ CC ≥ none within each ADRG: pooled (enforce) or only warned (warn)."""
    warnings: list[dict[str, Any]] = []
    derived = [g for g, r in rows.items() if r["source"] == "derived" and r["weight"] is not None]
    for adrg, chain in severity_chains(derived).items():
        ws = [rows[g]["weight"] for g in chain]
        if all(a >= b for a, b in zip(ws, ws[1:], strict=False)):
            continue
        fixed = monotone(ws, [Decimal(rows[g]["n_used"] + 1) for g in chain])
        for g, before, after in zip(chain, ws, fixed, strict=True):
            if before == after:
                continue
            order = " ≥ ".join(chain)
            if mode == "enforce":
                rows[g]["weight"] = after
                rows[g]["basis"] = rows[g]["basis"] + "+severity"
                rows[g]["note"] += f"; 严重程度倒挂 ({order}), 合并调整 {before} → {after}"
            warnings.append(
                {
                    "method": "DRG",
                    "group": g,
                    "parent": adrg,
                    "kind": "severity_order",
                    "before": before,
                    "after": after if mode == "enforce" else before,
                    "message": (
                        f"{adrg} 组内权重随严重程度倒挂 (应 {order}): {g} 权重 {before}"
                        + (f" 调整为 {after}" if mode == "enforce" else " 未调整, 请复核")
                    ),
                }
            )
    return warnings


def warning_table(warnings: list[dict[str, Any]]) -> pa.Table:
    cols = PRICING_WARNING.columns
    return pa.table(
        {c: pa.array([w.get(c) for w in warnings], PRICING_WARNING[c].type) for c in cols}
    )


def level_case(lv: ir.StringValue, code: ir.StringValue, values: dict[str, Decimal]) -> ir.Value:
    """A per-level (or per-medins-code) factor column, DECIMAL(18,6); 1 where not listed."""
    from huiyan.model.exact import lit

    branches = [(code == k, lit(v)) for k, v in values.items() if len(k) > 1]
    branches += [(lv == k, lit(v)) for k, v in values.items() if len(k) == 1]
    if not branches:
        return lit(1)
    return ibis.cases(*branches, else_=lit(1))
