"""Group commit of reviewers' decisions on PostgreSQL: one writer thread per worker process.

Every decision appends to the hash-chained audit log and so holds the chain head's row lock
until its commit; a commit waits for the WAL flush (milliseconds), so one decision per
transaction serialises every worker's decisions at one flush each. The writer instead takes
what is queued (up to ``BATCH``), applies each decision in its own SAVEPOINT (checked
separately: a failing one rolls back only its savepoint and gets its own error), appends the
audit entries in order, commits once, and only then answers each request: no decision is
acknowledged before its commit succeeded, and a failed commit fails every decision of the
batch.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, text

from huiyan.review.db import LOCK_CHAIN_HEAD, ReviewItem
from huiyan.review.workflow import WorkflowError

log = logging.getLogger(__name__)

BATCH = 32
SWITCH_INTERVAL = 0.0005  # seconds
# Taken first by every batch: writers (of both workers) then queue on the chain head before
# they lock any item, so two batches cannot each hold an item the other needs.
_LOCK_HEAD = text(LOCK_CHAIN_HEAD)


class CommitFailed(Exception):
    """The batch's commit failed: the decision was not recorded (the client may retry)."""


Step = Callable[..., ReviewItem]


@dataclass
class _Job:
    step: Step
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[ReviewItem]


def _settle(job: _Job, result: ReviewItem | None, error: BaseException | None) -> None:
    def done() -> None:
        if job.future.done():  # the request was cancelled (client gone)
            return
        if error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(result)  # type: ignore[arg-type]

    job.loop.call_soon_threadsafe(done)


class DecisionWriter:
    """The worker's one decision writer (a daemon thread, started on first use so that it
    runs in the worker process that serves the requests)."""

    def __init__(self, engine: Engine, batch: int = BATCH) -> None:
        self.engine = engine
        self.batch = batch
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    async def submit(self, step: Step, *args: Any, **kwargs: Any) -> ReviewItem:
        """``step(conn, *args, read=conn, **kwargs)`` in the next batch; returns once committed."""
        if self._thread is None:
            with self._start:
                if self._thread is None:
                    # The writer makes several round trips per decision and must win the GIL
                    # back from the busy event loop after each; at the default 5 ms switch
                    # interval it waited most of a batch's time for the GIL, not the database.
                    sys.setswitchinterval(SWITCH_INTERVAL)
                    self._thread = threading.Thread(
                        target=self._run, name="decision-writer", daemon=True
                    )
                    self._thread.start()
        loop = asyncio.get_running_loop()
        job = _Job(step, args, kwargs, loop, loop.create_future())
        self._queue.put(job)
        return await job.future

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            jobs = [first]
            while len(jobs) < self.batch:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    self._queue.put(None)  # stop after this batch
                    break
                jobs.append(job)
            try:
                self._commit(jobs)
            except Exception:  # never let the writer die: the next batch gets a fresh connection
                log.exception("decision batch failed")

    def _commit(self, jobs: list[_Job]) -> None:
        done: list[tuple[_Job, ReviewItem]] = []
        try:
            with self.engine.connect() as conn:
                conn.execute(_LOCK_HEAD)
                for job in jobs:
                    savepoint = conn.begin_nested()
                    try:
                        # The item is read and checked inside the batch's transaction: a later
                        # decision on the same item sees the earlier one's change.
                        item = job.step(conn, *job.args, read=conn, **job.kwargs)
                    except Exception as exc:
                        savepoint.rollback()
                        _settle(job, None, exc)
                        if not isinstance(exc, WorkflowError):
                            log.exception("decision failed")
                        continue
                    savepoint.commit()
                    done.append((job, item))
                conn.commit()
        except Exception:
            log.exception("decision batch not committed")
            # Every decision of the batch fails; one already answered with its own error
            # (settled earlier, in order on its loop) keeps that answer.
            for job in jobs:
                _settle(job, None, CommitFailed("保存失败, 请重试"))
            return
        for job, item in done:
            _settle(job, item, None)
