"""Engines run table logic written once as Ibis expressions.

:class:`Engine` (``base.py``) is the one interface every pipeline step uses; ``Store`` is the
DuckDB implementation (the embedded store file, default engine); ``connect(kind, ...)`` opens
the engine chosen by configuration (``--engine duckdb|spark``). Spark is imported only when
asked for (``pip install 'huiyan[spark]'``).
"""

from __future__ import annotations

from huiyan.engine.base import Capabilities, Engine, WriteMode, connect, describe_error
from huiyan.engine.prepared import SmallEngine, rows_where
from huiyan.engine.store import Store

__all__ = [
    "Capabilities",
    "Engine",
    "SmallEngine",
    "Store",
    "WriteMode",
    "connect",
    "describe_error",
    "rows_where",
]
