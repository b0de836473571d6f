"""Pipeline step ``price``: DIP grouping and catalog, then standards and payment (``pricing``).

Results replace earlier ones (dip_catalog, dip_result, drg_standard, payment_rate, payment,
pricing_warning, dip_review), so re-running never duplicates rows.
"""

from __future__ import annotations

from huiyan.grouping.dip.catalog import build_catalog
from huiyan.grouping.dip.match import match_cases
from huiyan.grouping.dip.published import load_catalog
from huiyan.model.payment_tables import DIP_CATALOG
from huiyan.model.tables import DIP_RESULT
from huiyan.pipeline.context import RunContext, StepReport
from huiyan.pricing.run import price_all, refresh_schema


def _dip(ctx: RunContext, report: StepReport) -> bool:
    """Build (or load) and store the DIP catalog and match cases; True when derived."""
    store, cfg = ctx.engine, ctx.config
    p = cfg["payment"]["dip"]
    scheme = cfg["grouping"]["payment_scheme"]
    weights = [float(w) for w in cfg["payment"]["history"]["year_weights"]]
    if p["catalog_file"]:
        catalog = load_catalog(p["catalog_file"], name=str(p["catalog"]))
        report.notes.append(f"DIP目录: 已加载发布目录 {p['catalog_file']}")
    else:
        catalog = build_catalog(store, p, scheme=scheme, year_weights=weights).to_pyarrow()
    refresh_schema(store, DIP_CATALOG.name)
    store.write(DIP_CATALOG.name, catalog, mode="replace")
    matched, unmatched = match_cases(store, store.table(DIP_CATALOG.name), p, scheme=scheme)
    store.write(DIP_RESULT.name, matched.order_by("setl_id").to_pyarrow(), mode="replace")
    n_unmatched = unmatched.count().to_pyarrow().as_py()
    if n_unmatched:
        report.notes.append(f"DIP: {n_unmatched} 例未匹配到病种, 按项目付费")
    return not p["catalog_file"]


def run(ctx: RunContext) -> StepReport:
    """Price every settlement by DRG (payment scheme) and DIP."""
    report = StepReport(step="price")
    derived = _dip(ctx, report)
    result = price_all(ctx.engine, ctx.config, derived_catalog=derived)
    report.rows.update(result.rows)
    report.notes.extend(result.notes)
    return report
