"""Pipeline step ``ingest``: the dataset folder of the run into the store.

Idempotent by content hash: files already ingested are skipped, so re-running adds nothing.
"""

from __future__ import annotations

from huiyan.errors import InputError
from huiyan.ingest import ingest
from huiyan.pipeline.context import RunContext, StepReport


def run(ctx: RunContext) -> StepReport:
    if ctx.data_dir is None:
        raise InputError("ingest: 未指定数据目录 (no dataset folder given)")
    report = ingest(ctx.data_dir, ctx.engine, ctx.config, force=ctx.force)
    step = StepReport(step="ingest", notes=list(report.notes))
    for name, c in report.tables.items():
        step.rows[name] = c.accepted
        if c.quarantined:
            step.notes.append(f"{name}: 隔离 {c.quarantined:,} 行 quarantined")
    return step
