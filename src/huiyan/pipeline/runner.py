"""Runs the steps in order, skipping those whose inputs have not changed."""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import time
from collections.abc import Sequence
from contextlib import nullcontext
from datetime import datetime

import pyarrow as pa

from huiyan.model.tables import INGEST_BATCH, PIPELINE_RUN
from huiyan.pipeline.context import RunContext, StepReport

log = logging.getLogger(__name__)

# QC runs after grouping because its grouping rate (入组率) reads drg_result.
STEPS: tuple[str, ...] = ("ingest", "group", "qc", "price", "audit", "monitor")


def _fingerprint(ctx: RunContext, step: str) -> str:
    # A step's inputs are the ingested batches plus the configuration; results of earlier steps
    # are derived from those, so this one hash covers them too.
    batches: list[list[object]] = []
    if ctx.engine.has(INGEST_BATCH.name):
        cols = ["table_name", "source_file", "content_hash"]
        rows = ctx.engine.to_arrow(ctx.engine.table(INGEST_BATCH.name).select(*cols).order_by(cols))
        batches = [list(r.values()) for r in rows.to_pylist()]
    payload = json.dumps([step, batches, ctx.config], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def _last_fingerprint(ctx: RunContext, step: str) -> str | None:
    runs = ctx.engine.table(PIPELINE_RUN.name)
    latest = runs.filter(runs.step == step).order_by(runs.finished_at.desc()).limit(1)
    rows = ctx.engine.to_arrow(latest.select("fingerprint")).column("fingerprint").to_pylist()
    return rows[0] if rows else None


def _record(ctx: RunContext, step: str) -> None:
    run = {
        "step": [step],
        "fingerprint": [_fingerprint(ctx, step)],
        "finished_at": [datetime.now()],
    }
    ctx.engine.write(PIPELINE_RUN.name, pa.table(run))


def run_steps(
    ctx: RunContext, steps: Sequence[str] = STEPS, *, force: bool = False
) -> list[StepReport]:
    """Run ``steps`` in pipeline order; a step with an unknown name is an error."""
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        raise ValueError(f"unknown steps {unknown}; known: {', '.join(STEPS)}")
    reports = []
    for step in [s for s in STEPS if s in steps]:
        module = importlib.import_module(f"huiyan.pipeline.steps.{step}")
        # ingest decides by content hash itself; other steps by fingerprint of what came in.
        fingerprint = _fingerprint(ctx, step) if step != "ingest" else None
        if fingerprint and not force and _last_fingerprint(ctx, step) == fingerprint:
            log.info("step %s: inputs unchanged, skipped", step)
            reports.append(StepReport(step=step, skipped=True, notes=["输入未变化,跳过"]))
            continue
        started = time.perf_counter()
        ctx.engine.table(
            PIPELINE_RUN.name
        )  # an engine creates a missing table outside the step's transaction
        # A step's writes and its run record are one transaction: a run killed inside a step
        # leaves the store as the previous step left it, and the rerun redoes that step alone.
        # Ingest commits one transaction per file itself (see ``ingest.run``).
        with ctx.engine.transaction() if step != "ingest" else nullcontext():
            report: StepReport = module.run(ctx)
            if fingerprint:
                _record(ctx, step)
        report.seconds = time.perf_counter() - started
        reports.append(report)
    return reports
