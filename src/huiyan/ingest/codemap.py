"""Code normalisation and legacy-code mapping, done once per distinct code (not per row).

The distinct submitted codes of a batch (a few thousand, against millions of rows) are
normalised with ``model.codes`` and, when the normalised code is not in the 医保版 2.0
dictionary but is a key of the knowledge base's map, mapped to its 2.0 code. The result is a
small lookup table the load joins to, recording the original code where a code was mapped.
An unknown code is kept as normalised: judging it is a QC matter, not a reason to reject.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import pyarrow as pa

from huiyan.engine import local
from huiyan.kb import dictionaries
from huiyan.model.coding import normalize_diag, normalize_oprn

CODEMAP = "__ingest_codemap"
_MAX_HOPS = 3  # some map targets are themselves retired codes mapped onward


@cache
def _kind(kind: str) -> tuple[Callable[[str | None], str | None], dict[str, str], dict[str, str]]:
    if kind == "diag":
        return normalize_diag, dictionaries.diagnoses(), dictionaries.diagnosis_map()
    if kind == "oprn":
        return normalize_oprn, dictionaries.procedures(), dictionaries.procedure_map()
    raise ValueError(f"unknown code kind {kind!r}")


def map_code(code: str | None, kind: str) -> tuple[str | None, bool]:
    """Normalised (and, if legacy, mapped) code and whether it was mapped.

    >>> map_code(" a01.000X002 ", "diag")
    ('A01.003', True)
    >>> map_code("I21.000", "diag")
    ('I21.000', False)
    """
    normalize, known, legacy = _kind(kind)
    norm = normalize(code)
    if norm is None:
        return None, False
    current, hops = norm, 0
    while current not in known and current in legacy and hops < _MAX_HOPS:
        target = legacy[current]
        if target == current:
            break
        current, hops = target, hops + 1
    return current, current != norm


def register_codemap(con: local.Connection, stage: str, column: str, kind_sql: str) -> None:
    """Build ``CODEMAP(kind, raw, code, orig)`` for the distinct codes of ``stage.column``.

    ``kind_sql`` is an SQL expression over the staging row giving ``diag`` or ``oprn``.
    """
    rows = con.sql(
        f'SELECT DISTINCT {kind_sql} AS kind, "{column}" AS raw FROM {stage} s '
        f'WHERE "{column}" IS NOT NULL'
    ).fetchall()
    kinds, raws, mapped_codes, origs = [], [], [], []
    for kind, raw in rows:
        if kind not in ("diag", "oprn"):
            continue
        code, mapped = map_code(raw, kind)
        kinds.append(kind)
        raws.append(raw)
        mapped_codes.append(code)
        origs.append(raw.strip() if mapped else None)
    data = pa.table(
        {
            "kind": pa.array(kinds, pa.string()),
            "raw": pa.array(raws, pa.string()),
            "code": pa.array(mapped_codes, pa.string()),
            "orig": pa.array(origs, pa.string()),
        }
    )
    con.register("__ingest_codemap_arrow", data)
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {CODEMAP} AS SELECT * FROM __ingest_codemap_arrow"
        )
    finally:
        con.unregister("__ingest_codemap_arrow")
