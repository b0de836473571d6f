"""Moving staged rows into the store: codes mapped, accepted rows kept, the others quarantined.

The stage (``checks.stage_sql``) is a table of the store with the layout of the target table
plus bookkeeping columns. A first load of a table keeps the stage itself as the table (the
failing rows deleted, the bookkeeping columns dropped): the rows are written once, compressed,
instead of once into a staging table and again into the store. A later load compares the
stage with the stored rows by key and content hash.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from huiyan.engine import local
from huiyan.engine.store import Store
from huiyan.ingest.checks import lit, q, stage_columns
from huiyan.ingest.codemap import CODEMAP, register_codemap
from huiyan.ingest.readers import REJECTS, Staged, row_number_sql
from huiyan.ingest.rules import checks, reason_text
from huiyan.model import Table
from huiyan.model.tables import QUARANTINE

STAGE = "__ingest_stage"
REASONS = "__ingest_reasons"
ACCEPTED = "__ingest_acc"  # a later load: the valid rows with their content hash
COMPARED = "__ingest_cmp"  # ... and, per key already stored, whether the content is the same
HASHES = "__ingest_dup_hashes"  # key hashes occurring more than once (``checks``)
# Dropped when the ingest ends, however it ends.
SCRATCH = (STAGE, REASONS, ACCEPTED, COMPARED, HASHES)


@dataclass
class Loaded:
    accepted: int = 0
    quarantined: int = 0
    replaced: int = 0
    unchanged: int = 0


def apply_codemap(con: local.Connection, t: Table, columns: list[str]) -> int:
    """Normalise and map the code column of the valid staged rows; returns rows changed.

    Only rows whose code changes are updated: the distinct codes are mapped once in Python
    (``codemap``), the rows in SQL.
    """
    code = checks()["codes"].get(t.name)
    if not code or code["column"] not in columns:
        return 0
    col = q(code["column"])
    kind = f"s.{q(code['kind_column'])}" if code.get("kind_column") else lit(code["kind"])
    register_codemap(con, STAGE, code["column"], kind)
    sets = f"{col} = coalesce(m.code, s.{col})"
    if code.get("original"):
        orig = q(code["original"])
        sets += f", {orig} = coalesce(m.orig, s.{orig})"
    changed = con.execute(
        f"UPDATE {STAGE} AS s SET {sets} FROM {CODEMAP} m "
        f"WHERE m.raw = s.{col} AND m.kind = {kind} AND s.__e IS NULL "
        f"AND (m.code IS DISTINCT FROM m.raw OR m.orig IS NOT NULL)"
    ).fetchall()[0][0]
    return int(changed)


def load_accepted(store: Store, t: Table, staged: Staged, errors: int) -> Loaded:
    """Store the valid staged rows; an existing key with new content is replaced, same kept.

    Call after ``quarantine``: a first load turns the stage into the table.
    """
    if not store.has(t.name) or store.count(t.name) == 0:
        return _keep_stage(store, t, staged, errors)
    con = store.con
    cols = ", ".join(q(c) for c in t.columns)
    select = f"SELECT {cols} FROM {STAGE} WHERE __e IS NULL"
    out = Loaded()
    key = list(t.key) or t.columns
    on = " AND ".join(f"a.{q(k)} IS NOT DISTINCT FROM o.{q(k)}" for k in key)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {ACCEPTED} AS SELECT *, hash({cols}) AS __h FROM ({select})"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {COMPARED} AS SELECT {', '.join('a.' + q(k) for k in key)}, "
        f"a.__h = hash({', '.join('o.' + q(c) for c in t.columns)}) AS same "
        f"FROM {ACCEPTED} a JOIN {q(t.name)} o ON {on}"
    )
    out.accepted = store.count(ACCEPTED)
    out.unchanged, out.replaced = (
        int(v or 0)
        for v in con.sql(
            f"SELECT count(*) FILTER (same), count(*) FILTER (NOT same) FROM {COMPARED}"
        ).fetchall()[0]
    )
    on_c = " AND ".join(f"o.{q(k)} IS NOT DISTINCT FROM c.{q(k)}" for k in key)
    on_a = on_c.replace("o.", "a.")
    with store.transaction():
        if out.replaced:
            con.execute(f"DELETE FROM {q(t.name)} o USING {COMPARED} c WHERE NOT c.same AND {on_c}")
        con.execute(
            f"INSERT INTO {q(t.name)} SELECT {cols} FROM {ACCEPTED} a "
            f"ANTI JOIN (SELECT * FROM {COMPARED} WHERE same) c ON {on_a}"
        )
    con.execute(f"DROP TABLE {ACCEPTED}; DROP TABLE {COMPARED}; DROP TABLE {STAGE}")
    return out


def _keep_stage(store: Store, t: Table, staged: Staged, errors: int) -> Loaded:
    con = store.con
    accepted = store.count(STAGE) - errors
    with store.transaction():
        if errors:
            con.execute(f"DELETE FROM {STAGE} WHERE __e IS NOT NULL")
        for c in stage_columns(numbered=staged.numbered):
            con.execute(f"ALTER TABLE {STAGE} DROP COLUMN {c}")
        con.execute(f"DROP TABLE IF EXISTS {q(t.name)}")
        con.execute(f"ALTER TABLE {STAGE} RENAME TO {q(t.name)}")
    return Loaded(accepted=accepted)


def _register_reasons(con: local.Connection, t: Table, pairs: list[tuple[str, str, str]]) -> None:
    rows: dict[str, list[str]] = {"code": [], "field": [], "detail": [], "zh": [], "en": []}
    for code, field, detail in pairs:
        label = (
            "+".join(f"{t[f].label}({f})" if f in t else f for f in field.split("+"))
            if field
            else ""
        )
        if code in ("column_count", "malformed") and detail:
            detail_zh = detail_en = f": {detail}"  # the reader's own message
        else:  # a type label such as "数值 number"
            detail_zh, _, detail_en = detail.partition(" ")
        zh, en = reason_text(
            code, field=label, field_en=field, detail=detail_zh, detail_en=detail_en or detail_zh
        )
        for k, v in zip(rows, (code, field, detail, zh, en), strict=True):
            rows[k].append(v)
    con.register(
        "__ingest_reasons_arrow", pa.table({k: pa.array(v, pa.string()) for k, v in rows.items()})
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE {REASONS} AS SELECT * FROM __ingest_reasons_arrow")
    con.unregister("__ingest_reasons_arrow")


def errors(con: local.Connection) -> int:
    """Staged rows failing a check."""
    return int(con.sql(f"SELECT count(*) FROM {STAGE} WHERE __e IS NOT NULL").fetchall()[0][0])


def quarantine(store: Store, t: Table, staged: Staged, *, batch_id: str, source: str) -> int:
    """Write the failing staged rows and the reader's rejects to quarantine."""
    con = store.con
    store.ensure(QUARANTINE.name)
    pairs = con.sql(
        f"SELECT DISTINCT __e->>'code', coalesce(__e->>'field', ''), coalesce(__e->>'detail', '') "
        f"FROM {STAGE} WHERE __e IS NOT NULL "
        f"UNION SELECT DISTINCT reason_code, '', '' FROM {REJECTS}"
    ).fetchall()
    if not pairs:
        return 0
    _register_reasons(con, t, pairs)
    head = f"{lit(batch_id)}, {lit(t.name)}, {lit(source)}"
    row, shift = row_number_sql(staged)
    n = con.execute(
        f"INSERT INTO {q(QUARANTINE.name)} SELECT {head}, {row}, nullif(s.field, ''), "
        f"s.value, s.code, r.zh, r.en, s.record "
        f"FROM (SELECT rowid, {'__row, ' if staged.numbered else ''}__e->>'field' AS field, "
        f"__e->>'value' AS value, __e->>'code' AS code, __e->>'detail' AS detail, "
        f"CAST(__e->'record' AS VARCHAR) AS record FROM {STAGE} WHERE __e IS NOT NULL) s {shift} "
        f"JOIN {REASONS} r ON r.code = s.code AND r.field = coalesce(s.field, '') "
        f"AND r.detail = coalesce(s.detail, '') ORDER BY 4"
    ).fetchall()[0][0]
    n += con.execute(
        f"INSERT INTO {q(QUARANTINE.name)} SELECT {head}, j.__row, NULL, NULL, j.reason_code, "
        f"r.zh, r.en, j.record FROM {REJECTS} j JOIN {REASONS} r "
        f"ON r.code = j.reason_code AND r.field = '' AND r.detail = ''"
    ).fetchall()[0][0]
    return int(n)
