"""Engines run table logic written once as Ibis expressions.

``store.Store`` is the embedded DuckDB file (default engine, holds inputs and results);
``connect(engine=...)`` returns an Ibis backend for the chosen engine. Spark is imported only
when asked for (``pip install 'huiyan[spark]'``).
"""

from __future__ import annotations

from huiyan.engine.store import Store

__all__ = ["Store"]
