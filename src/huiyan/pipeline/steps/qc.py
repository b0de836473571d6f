"""Pipeline step ``qc``: run every settlement-list check and the four indicators.

Replaces the earlier ``qc_issue`` and ``qc_indicator`` results, so re-running never duplicates.
"""

from __future__ import annotations

from huiyan.pipeline.context import RunContext, StepReport
from huiyan.quality.service import run_qc


def run(ctx: RunContext) -> StepReport:
    result = run_qc(ctx.engine, ctx.config)
    errors = sum(1 for s in result.issues.column("severity").to_pylist() if s == "error")
    return StepReport(
        step="qc",
        rows={"qc_issue": result.issues.num_rows, "qc_indicator": result.indicators.num_rows},
        notes=[f"质控问题 {result.issues.num_rows} 条，其中错误 {errors} 条"],
    )
