"""DIP scores and reference costs on complete years, exact, with small packets shrunk.

The grouper builds the packets (``grouping/dip/catalog.py``) and matches cases to them; here
each derived packet's score (§2.2) and level reference cost A (§2.5) are recomputed from exact
sums over the complete calibration years. A packet with fewer than ``min_cases`` cases is
shrunk toward its category × treatment pool; a level with fewer than ``min_cases`` cases toward
the packet mean × that level's coefficient (one case never sets A). Primary-care packets
(基层病种) share one A at every level and no level coefficient.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from huiyan.model.exact import q6
from huiyan.model.payment_tables import DIP_CATALOG
from huiyan.model.tables import DIP_RESULT, DRG_RESULT
from huiyan.pricing.calibrate import Cell, level_coefficients, shrink, weighted_mean
from huiyan.pricing.standards import Window, cells, per_year, pooled

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.engine import Engine

LEVELS = ("1", "2", "3")
SEVERITY = ("none", "cc", "mcc")


@dataclass
class DipStandards:
    catalog: pa.Table
    coefficients: dict[str, Decimal]
    severity: dict[str, Decimal]
    notes: list[str]


def is_primary_care(group: str, diag_code: str, listed: list[str]) -> bool:
    """A packet is primary care when its group code or its diagnosis starts with a listed code.

    >>> is_primary_care("J18.9", "J18.9", ["J18", "K35.8+47.0901"]), is_primary_care("I21.0", "I21.0", ["J18"])
    (True, False)
    """
    return any(group.startswith(x) or diag_code.startswith(x) for x in listed)


def severity_state(store: Engine, scheme: str) -> ir.Table:
    """Per settlement its complication state from the payment scheme's grouping: none/cc/mcc."""
    import ibis

    r = store.table(DRG_RESULT.name)
    r = r.filter(r.scheme == scheme).distinct(on="setl_id", keep="first")
    return r.select(
        "setl_id",
        severity=ibis.cases(
            (r.has_mcc.fill_null(False), "mcc"), (r.has_cc.fill_null(False), "cc"), else_="none"
        ),
    )


def recalibrate(
    store: Engine, base: ir.Table, window: Window, config: dict[str, dict[str, Any]]
) -> DipStandards:
    """The stored derived ``dip_catalog`` with exact scores, reference costs and notes."""
    p = config["payment"]["dip"]
    m = int(config["payment"]["calibration"]["min_cases"])
    scale = Decimal(str(p["score_scale"]))
    wy = window.weights
    cat = store.read(DIP_CATALOG.name).to_pylist()
    r = store.table(DIP_RESULT.name).select("setl_id", "dip_group")
    t = base.filter(base.in_scope & base.year.isin(list(wy))).join(r, "setl_id")
    t = t.filter(t.los <= int(config["payment"]["drg"]["perdiem_min_days"]))
    cs = cells(t, "dip_group")
    py = per_year(cs)
    grand = weighted_mean(per_year(pooled(cs, lambda g: "*").get("*", [])).get("*", {}), wy)
    grand = grand or Decimal(1)
    info = {c["dip_group"]: c for c in cat}

    def pool_key(g: str) -> str:
        c = info.get(g)
        return f"{c['diag_code'][:3]}|{c['proc_type']}" if c else "?"

    pools = {k: per_year(v)[k] for k, v in pooled(cs, pool_key).items()}
    n_of = {g: sum(n for n, _ in ys.values()) for g, ys in py.items()}
    means = {g: weighted_mean(ys, wy) for g, ys in py.items()}
    plain = {
        g: sum((s for _, s in ys.values()), Decimal(0)) / n_of[g] for g, ys in py.items() if n_of[g]
    }
    if p["coefficients"] == "derive":
        coefficients = level_coefficients(cs, plain)
    else:
        coefficients = {str(k): q6(v) for k, v in p["coefficients"].items()}
    by_level: dict[tuple[str, str], dict[int, tuple[int, Decimal]]] = {}
    for c in cs:
        acc = by_level.setdefault((c.group, c.level), {})
        n0, s0 = acc.get(c.year, (0, Decimal(0)))
        acc[c.year] = (n0 + c.n, s0 + c.cost)
    primary = [str(x) for x in p["primary_care"] or []]

    out = []
    for g in sorted(info):
        row = dict(info[g])
        n = n_of.get(g, 0)
        own = means.get(g)
        pool = pools.get(pool_key(g), {})
        pool_n = sum(k for k, _ in pool.values())
        pool_mean = weighted_mean(pool, wy) if pool_n >= m else None
        prior_mean = pool_mean if pool_mean is not None else grand
        if n >= m and own is not None:
            mean = own
            note = f"本病种 {n} 例 ≥ {m}"
        else:
            mean = shrink(own, n, prior_mean, m)
            label = "同类目同治疗方式" if pool_mean is not None else "全部病例均值"
            note = f"本病种 {n} 例 < {m}, 按 {n}/{m} 向{label}收缩"
        pc = is_primary_care(g, row["diag_code"] or "", primary)
        row.update(
            n_cases=n,
            mean_cost=mean.quantize(Decimal("0.01")),
            score=float(q6(mean / grand * scale)),
            primary_care=pc,
            source="derived",
        )
        for lv in LEVELS:
            if pc:
                a = mean
            else:
                ys = by_level.get((g, lv), {})
                n_lv = sum(k for k, _ in ys.values())
                a = shrink(weighted_mean(ys, wy), n_lv, mean * coefficients.get(lv, Decimal(1)), m)
            row[f"ref_cost_lv{lv}"] = a.quantize(Decimal("0.01"))
        row["note"] = note + ("; 基层病种: 各级同分值同A, 不乘级别系数" if pc else "")
        out.append(row)
    table = pa.table(
        {c: pa.array([r.get(c) for r in out], DIP_CATALOG[c].type) for c in DIP_CATALOG.columns}
    )
    severity = _severity(store, t, plain, config)
    notes = []
    if p["coefficients"] == "derive":
        notes.append(
            "DIP级别系数(按病种结构标化的费用比): "
            + ", ".join(f"{lv}级 {v}" for lv, v in coefficients.items())
        )
    if severity:
        notes.append(
            "DIP辅助目录严重程度系数: " + ", ".join(f"{k} {v}" for k, v in severity.items())
        )
    return DipStandards(table, coefficients, severity, notes)


def _severity(
    store: Engine, t: ir.Table, plain: dict[str, Decimal], config: dict[str, dict[str, Any]]
) -> dict[str, Decimal]:
    """Auxiliary severity coefficients: configured, none, or the cost ratio by state (derived)."""
    s = config["payment"]["dip"]["severity"]
    if s == "none" or s is None:
        return {}
    if s != "derive":
        return {str(k): q6(v) for k, v in s.items()}
    sev = severity_state(store, config["grouping"]["payment_scheme"])
    j = t.join(sev, "setl_id")
    j = j.mutate(medins_lv=j.severity)
    cs = cells(j, "dip_group")
    return level_coefficients([Cell(c.group, c.year, c.level, c.n, c.cost) for c in cs], plain)
