"""One run = ingest -> QC -> group -> price -> audit -> (monitor) -> report.

Each step lives in ``steps/<name>.py`` and exposes ``run(ctx) -> StepReport``; it reads and
writes only the tables of :mod:`huiyan.model` through ``ctx.engine``. The runner records a
fingerprint of each step's inputs in ``pipeline_run`` and skips a step whose inputs and
configuration have not changed since it last ran, so re-running never duplicates results.
To add a step: write ``steps/<name>.py`` and list it in ``runner.STEPS``.
"""

from __future__ import annotations

from huiyan.pipeline.context import RunContext, StepReport

__all__ = ["RunContext", "StepReport"]
