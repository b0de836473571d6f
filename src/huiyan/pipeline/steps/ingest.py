"""Pipeline step ``ingest``: the dataset folder of the run into the store.

Idempotent by content hash: files already ingested are skipped, so re-running adds nothing.
Ingest loads into the engine's local store (``Engine.local_store``: the engine itself when it
has ``capabilities.local_store``); an engine whose tables live elsewhere then receives every
input and bookkeeping table (``Engine.publish``).
"""

from __future__ import annotations

from huiyan.errors import InputError
from huiyan.ingest import ingest
from huiyan.model.tables import BOOKKEEPING_TABLES, INPUT_TABLES, KNOWLEDGE_TABLES, PIPELINE_RUN
from huiyan.pipeline.context import RunContext, StepReport


def run(ctx: RunContext) -> StepReport:
    if ctx.data_dir is None:
        raise InputError("ingest: 未指定数据目录 (no dataset folder given)")
    local = ctx.engine.local_store()
    report = ingest(ctx.data_dir, local, ctx.config, force=ctx.force)
    loaded = [t.name for t in (*INPUT_TABLES, *KNOWLEDGE_TABLES, *BOOKKEEPING_TABLES)]
    ctx.engine.publish(local, [n for n in loaded if n != PIPELINE_RUN.name])
    step = StepReport(step="ingest", notes=list(report.notes))
    for name, c in report.tables.items():
        step.rows[name] = c.accepted
        if c.quarantined:
            step.notes.append(f"{name}: 隔离 {c.quarantined:,} 行 quarantined")
    return step
