"""Runs the steps in order, skipping those whose inputs have not changed."""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import time
from collections.abc import Sequence
from contextlib import nullcontext

from huiyan.pipeline.context import RunContext, StepReport

log = logging.getLogger(__name__)

# QC runs after grouping because its grouping rate (入组率) reads drg_result.
STEPS: tuple[str, ...] = ("ingest", "group", "qc", "price", "audit", "monitor")

_RUN_TABLE = "pipeline_run"


def _fingerprint(ctx: RunContext, step: str) -> str:
    # A step's inputs are the ingested batches plus the configuration; results of earlier steps
    # are derived from those, so this one hash covers them too.
    batches = []
    if ctx.store.has("ingest_batch"):
        batches = ctx.store.con.sql(
            "select table_name, source_file, content_hash from ingest_batch order by all"
        ).fetchall()
    payload = json.dumps([step, batches, ctx.config], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def _last_fingerprint(ctx: RunContext, step: str) -> str | None:
    con = ctx.store.con
    con.execute(
        f"create table if not exists {_RUN_TABLE} (step varchar, fingerprint varchar, finished_at timestamp)"
    )
    rows = con.sql(
        f"select fingerprint from {_RUN_TABLE} where step = ? order by finished_at desc limit 1",
        params=[step],
    ).fetchall()
    return rows[0][0] if rows else None


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
        _last_fingerprint(ctx, step)  # creates the run table outside the step's transaction
        # A step's writes and its run record are one transaction: a run killed inside a step
        # leaves the store as the previous step left it, and the rerun redoes that step alone.
        # Ingest commits one transaction per file itself (see ``ingest.run``).
        with ctx.store.transaction() if step != "ingest" else nullcontext():
            report: StepReport = module.run(ctx)
            if fingerprint:
                ctx.store.con.execute(
                    f"insert into {_RUN_TABLE} values (?, ?, now())",
                    [step, _fingerprint(ctx, step)],
                )
        report.seconds = time.perf_counter() - started
        reports.append(report)
    return reports
