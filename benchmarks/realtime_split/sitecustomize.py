"""Where a real-time worker's CPU goes: loaded into ``huiyan serve``'s workers by
``benchmarks/realtime.py --split`` (this folder first on ``PYTHONPATH``), never by the product.

Sums each worker's thread CPU time and calls for the stages of a 3101 request (message reading,
code check, audit passes with their encounters, answer) and writes them to
``$HUIYAN_SPLIT_DIR/<pid>.json`` every half second; the benchmark prints the difference over
each phase. Measured this way on 2026-12-05 (300 req/s): a pass held ~11 encounters, 39 ms.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

OUT = os.environ.get("HUIYAN_SPLIT_DIR")
STAGES: dict[str, list[float]] = {}  # stage -> [calls, CPU seconds, encounters]


def _timed(stage: str, fn: Callable[..., Any], rows: Callable[[Any], int] | None = None) -> Any:
    def timed(*args: Any, **kwargs: Any) -> Any:
        t = time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            s = STAGES.setdefault(stage, [0, 0.0, 0])
            s[0] += 1
            s[1] += time.thread_time() - t
            if rows is not None:
                s[2] += rows(args)

    return timed


def _install() -> bool:
    """Wraps the stages once the worker has imported their modules. Never imports them
    itself: importing from this thread while the worker's main thread imports the app could
    leave it a partly initialized module (seen: a worker that failed to start)."""
    router = sys.modules.get("huiyan.service.realtime.router")
    single = sys.modules.get("huiyan.audit.single")
    # The last names each module defines: present once it is fully imported.
    if not (hasattr(router, "pre_group") and hasattr(single, "MicroBatcher")):
        return False
    router.read = _timed("read", router.read)
    router.unknown_codes = _timed("codes", router.unknown_codes)
    router._result = _timed("answer", router._result)
    single.concat_batches = _timed("concat", single.concat_batches)
    single.SingleAuditor.audit = _timed(
        "audit", single.SingleAuditor.audit, rows=lambda args: args[1]["setl_list"].num_rows
    )
    return True


def _report() -> None:
    while not _install():
        time.sleep(0.2)
    path = os.path.join(str(OUT), f"{os.getpid()}.json")
    while True:
        time.sleep(0.5)
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(STAGES, f)
        os.replace(path + ".tmp", path)


if OUT:
    threading.Thread(target=_report, daemon=True).start()
