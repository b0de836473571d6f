"""The local SQL store: the embedded database behind ``Engine.local_store``, for the few
programs that speak its SQL directly instead of going through the engine protocol.

Those are the programs that are local by nature: ingest's staging (files read, checked and
upserted inside the store file), exports streamed from the store file, the service's read-only
readers of a published snapshot, and scratch work on in-process Arrow tables (synthetic data,
finding ids). They import this module, never the database library, so the backend stays named
inside ``huiyan.engine`` alone (it is DuckDB: ``store.py`` is the engine on the same file).

Example::

    from huiyan.engine import local

    with local.connect() as con:  # in memory
        con.register("t", arrow_table)
        out = con.sql("select count(*) from t").fetchall()
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeAlias

import duckdb

#: A connection to a local store (a file, or an in-memory database).
Connection: TypeAlias = duckdb.DuckDBPyConnection
#: Any error the local store raises.
Error: TypeAlias = duckdb.Error
#: An I/O failure of the store file (disk full, file lost, permissions).
IOException: TypeAlias = duckdb.IOException
#: The file suffix of a store file (``huiyan.duckdb``; snapshots keep it).
SUFFIX = ".duckdb"


def connect(path: str | Path = ":memory:", *, read_only: bool = False) -> Connection:
    """A connection to the store file ``path`` (default: a new in-memory database)."""
    return duckdb.connect(str(path), read_only=read_only)
