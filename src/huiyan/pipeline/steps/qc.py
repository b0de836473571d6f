"""Pipeline step ``qc``: run every settlement-list check and the four indicators.

Replaces the earlier ``qc_issue`` and ``qc_indicator`` results, so re-running never duplicates.
"""

from __future__ import annotations

from huiyan.pipeline.context import RunContext, StepReport
from huiyan.quality.service import run_qc


def run(ctx: RunContext) -> StepReport:
    result = run_qc(ctx.engine, ctx.config)
    return StepReport(
        step="qc",
        rows={"qc_issue": result.n_issues, "qc_indicator": result.indicators.num_rows},
        notes=[f"质控问题 {result.n_issues} 条，其中错误 {result.n_errors} 条"],
    )
