"""Pipeline step ``price``: DIP grouping and catalog, then standards and payment (``pricing``).

Results replace earlier ones (dip_catalog, dip_result, drg_standard, payment_rate, payment,
pricing_warning, dip_review), so re-running never duplicates rows.
"""

from __future__ import annotations

from huiyan.grouping.dip.assign import group_dip
from huiyan.pipeline.context import RunContext, StepReport
from huiyan.pricing.run import price_all


def run(ctx: RunContext) -> StepReport:
    """Price every settlement by DRG (payment scheme) and DIP."""
    report = StepReport(step="price")
    derived, notes = group_dip(ctx.engine, ctx.config)
    report.notes.extend(notes)
    result = price_all(ctx.engine, ctx.config, derived_catalog=derived)
    report.rows.update(result.rows)
    report.notes.extend(result.notes)
    return report
