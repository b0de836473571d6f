"""Real-time pre/in-event audit (3101/3102), doctor feedback (3103) and pre-grouping.

``register(app)`` adds the router and the knowledge holder; ``service.app`` calls it.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


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
    # Compile the rule library now (10-25 s) rather than in the first request of each worker;
    # requests arriving meanwhile wait for it on the knowledge lock.
    threading.Thread(target=_warm, args=(state.realtime,), daemon=True).start()


def _warm(knowledge: Any) -> None:
    try:
        knowledge.current()
    except Exception:  # the first request reports the error in the 3101 error shape
        log.exception("realtime knowledge warm-up failed")
