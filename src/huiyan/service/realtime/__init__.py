"""Real-time pre/in-event audit (3101/3102), doctor feedback (3103) and pre-grouping.

``register(app)`` adds the router and the knowledge holder; ``service.app`` calls it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
WARM_ENV = "HUIYAN_REALTIME_WARM"


def register(app: Any) -> None:
    from huiyan.service.realtime.knowledge import Knowledge
    from huiyan.service.realtime.router import router

    state = app.state

    def snapshot_path() -> Path | None:
        snap = state.store.snapshot
        return snap.path if snap is not None else None

    cfg = os.environ.get("HUIYAN_CONFIG")
    state.realtime = Knowledge(snapshot_path, Path(cfg) if cfg else None)
    app.include_router(router, prefix="/api/v1")
    # Under the server (``HUIYAN_REALTIME_WARM=1``, set by ``huiyan serve``) the rule library is
    # compiled at start-up (seconds) rather than in the first request of each worker; requests
    # arriving meanwhile wait for it on the knowledge lock. Not in tests: every app would
    # compile it, and a compile still running at interpreter exit aborts the process.
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: Any) -> AsyncIterator[Any]:
        loading = None
        if os.environ.get(WARM_ENV) == "1":
            state.realtime.warm = True  # every load ends ready: rules warmed, collector settled
            loading = threading.Thread(target=_warm, args=(state.realtime,), daemon=True)
            loading.start()
        async with inner(a) as value:
            try:
                yield value
            finally:
                if loading is not None:
                    await asyncio.to_thread(loading.join, 120)

    app.router.lifespan_context = lifespan


def _warm(knowledge: Any) -> None:
    try:
        knowledge.current()
    except Exception:  # the first request reports the error in the 3101 error shape
        log.exception("realtime knowledge warm-up failed")
