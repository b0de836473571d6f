"""Engines run table logic written once as Ibis expressions.

:class:`Engine` (``base.py``) is the one interface every pipeline step uses; ``Store`` is the
DuckDB implementation (the embedded store file, default engine); ``connect(kind, ...)`` opens
the engine chosen by configuration (``--engine``, one of ``KINDS``). Spark is imported only
when asked for (``pip install 'huiyan[spark]'``). ``local`` is the local store's SQL for the
programs that are local by nature (ingest's staging, exports, the service's readers).

Nothing outside this package names a backend (``tests/engine/test_boundary.py``).
"""

from __future__ import annotations

from huiyan.engine import local
from huiyan.engine.base import (
    DEFAULT_KIND,
    DEFAULT_STORE,
    EXTRAS,
    KINDS,
    MASTER_OPTIONS,
    Capabilities,
    Engine,
    WriteMode,
    connect,
    describe_error,
)
from huiyan.engine.prepared import SmallEngine, rows_where
from huiyan.engine.store import Store

__all__ = [
    "DEFAULT_KIND",
    "DEFAULT_STORE",
    "EXTRAS",
    "KINDS",
    "MASTER_OPTIONS",
    "Capabilities",
    "Engine",
    "SmallEngine",
    "Store",
    "WriteMode",
    "connect",
    "describe_error",
    "local",
    "rows_where",
]
