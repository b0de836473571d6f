"""Pipeline step ``monitor``: indicators and warnings (监测预警), replacing earlier results."""

from __future__ import annotations

from collections import Counter

import pyarrow as pa

from huiyan.monitor.api import monitor_store
from huiyan.pipeline.context import RunContext, StepReport


def run(ctx: RunContext, *, decided: pa.Table | None = None) -> StepReport:
    """``decided``: the review workflow's final deductions (confirmed amounts), if known."""
    result = monitor_store(ctx.engine, ctx.config, decided)
    n_ind = ctx.engine.write("indicator", result.indicators, mode="replace")
    n_warn = ctx.engine.write("warning", result.warnings, mode="replace")
    sev = Counter(result.warnings.column("severity").to_pylist())
    return StepReport(
        step="monitor",
        rows={"indicator": n_ind, "warning": n_warn},
        notes=[
            f"预警 {n_warn} 条(高 {sev.get('high', 0)}, 中 {sev.get('medium', 0)}, "
            f"低 {sev.get('low', 0)})",
            *result.notes[1:],
        ],
    )
