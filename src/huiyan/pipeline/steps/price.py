"""Pipeline step ``price``: DIP grouping and catalog, DRG standards, DRG and DIP payment.

Results replace earlier ones (drg_standard, payment_rate, dip_catalog, dip_result, payment),
so re-running never duplicates rows.
"""

from __future__ import annotations

import logging

import pyarrow as pa

from huiyan.errors import InputError
from huiyan.grouping.dip.catalog import build_catalog
from huiyan.grouping.dip.match import match_cases
from huiyan.grouping.dip.published import load_catalog
from huiyan.model.payment_tables import DIP_CATALOG, DRG_STANDARD, PAYMENT_RATE
from huiyan.model.tables import DIP_RESULT, PAYMENT
from huiyan.pipeline.context import RunContext, StepReport
from huiyan.pricing.dip import price_dip
from huiyan.pricing.drg import price_drg

log = logging.getLogger(__name__)


def _dip(ctx: RunContext, report: StepReport) -> None:
    store, cfg = ctx.store, ctx.config
    p = cfg["payment"]["dip"]
    scheme = cfg["grouping"]["payment_scheme"]
    weights = [float(w) for w in cfg["payment"]["history"]["year_weights"]]
    if p["catalog_file"]:
        catalog = load_catalog(p["catalog_file"], name=str(p["catalog"]))
        report.notes.append(f"DIP目录: 已加载发布目录 {p['catalog_file']}")
    else:
        catalog = build_catalog(store, p, scheme=scheme, year_weights=weights).to_pyarrow()
    report.rows[DIP_CATALOG.name] = store.write(DIP_CATALOG.name, catalog, mode="replace")
    matched, unmatched = match_cases(store, store.ibis_table(DIP_CATALOG.name), p, scheme=scheme)
    report.rows[DIP_RESULT.name] = store.write(
        DIP_RESULT.name, matched.to_pyarrow(), mode="replace"
    )
    n_unmatched = unmatched.count().to_pyarrow().as_py()
    if n_unmatched:
        report.notes.append(f"DIP: {n_unmatched} 例未匹配到病种, 按项目付费")


def run(ctx: RunContext) -> StepReport:
    """Price every settlement by DRG (payment scheme) and DIP."""
    store = ctx.store
    report = StepReport(step="price")
    _dip(ctx, report)
    rates: list[dict[str, object]] = []
    payments: list[pa.Table] = []
    try:
        drg = price_drg(store, ctx.config)
    except InputError as exc:
        report.notes.append(f"DRG测算跳过: {exc}")
    else:
        report.rows[DRG_STANDARD.name] = store.write(
            DRG_STANDARD.name, drg.standards.to_pyarrow(), mode="replace"
        )
        rates.append(
            {
                "method": "DRG",
                "kind": "rate",
                "value": drg.rate,
                "budget": drg.budget,
                "total_units": drg.total_weight,
                "note": "费率 = 预算 / 总权重",
            }
        )
        if drg.perdiem_rate is not None:
            rates.append(
                {
                    "method": "PERDIEM",
                    "kind": "perdiem",
                    "value": drg.perdiem_rate,
                    "note": "床日费用标准",
                }
            )
        payments.append(drg.payment.to_pyarrow())
    dip = price_dip(store, ctx.config)
    if dip.point_value is not None:
        rates.append(
            {
                "method": "DIP",
                "kind": "point_value",
                "value": dip.point_value,
                "budget": dip.budget,
                "total_units": dip.total_score,
                "note": "预算点值 = 预算 / 总分值",
            }
        )
    payments.append(dip.payment.to_pyarrow())
    rate_table = PAYMENT_RATE.conform(
        pa.table(
            {
                "method": [r["method"] for r in rates],
                "kind": [r["kind"] for r in rates],
                "value": pa.array([round(float(r["value"]), 4) for r in rates], pa.float64()),
                "budget": pa.array([r.get("budget") for r in rates], pa.float64()),
                "total_units": pa.array([r.get("total_units") for r in rates], pa.float64()),
                "note": [r["note"] for r in rates],
            }
        )
    )
    store.write(PAYMENT_RATE.name, rate_table, mode="replace")
    written = 0
    for i, t in enumerate(payments):
        written += store.write(PAYMENT.name, t, mode="replace" if i == 0 else "append")
    report.rows[PAYMENT.name] = written
    return report
