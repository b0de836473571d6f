"""Moving staged rows into the store: accepted rows (insert, replace or leave) and quarantine."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa

from huiyan.engine.store import _ARROW_TO_DUCK, Store
from huiyan.ingest.checks import lit, q
from huiyan.ingest.codemap import CODEMAP, register_codemap
from huiyan.ingest.readers import REJECTS
from huiyan.ingest.rules import checks, reason_text
from huiyan.model import Table
from huiyan.model.tables import QUARANTINE

STAGE = "__ingest_stage"
ERRORS = "__ingest_errors"  # view: the rows of STAGE with an error


@dataclass
class Loaded:
    accepted: int = 0
    quarantined: int = 0
    replaced: int = 0
    unchanged: int = 0


def _accepted_select(
    con: duckdb.DuckDBPyConnection, t: Table, columns: list[str], stage: str
) -> str:
    code = checks()["codes"].get(t.name)
    join = ""
    exprs = {
        f.name: f"s.{q(f.name)}"
        if f.name in columns
        else f"CAST(NULL AS {_ARROW_TO_DUCK[str(f.type)]})"
        for f in t.fields
    }
    if code and code["column"] in columns:
        col = code["column"]
        kind = f"s.{q(code['kind_column'])}" if code.get("kind_column") else lit(code["kind"])
        register_codemap(con, stage, col, kind)
        join = f"LEFT JOIN {CODEMAP} m ON m.raw = s.{q(col)} AND m.kind = {kind}"
        exprs[col] = f"coalesce(m.code, s.{q(col)})"
        if code.get("original"):
            orig = code["original"]
            exprs[orig] = f"coalesce(m.orig, {exprs[orig]})"
    select = ", ".join(f"{e} AS {q(n)}" for n, e in exprs.items())
    return f"SELECT {select} FROM {stage} s {join} WHERE s.__e IS NULL"


def load_accepted(store: Store, t: Table, columns: list[str], stage: str) -> Loaded:
    """Insert the valid rows; an existing key with new content is replaced, same content kept."""
    con = store.con
    store.ensure(t.name)
    select = _accepted_select(con, t, columns, stage)
    out = Loaded()
    if store.count(t.name) == 0:
        out.accepted = int(con.execute(f"INSERT INTO {q(t.name)} {select}").fetchall()[0][0])
        return out
    key = list(t.key) or t.columns
    cols = ", ".join(q(c) for c in t.columns)
    on = " AND ".join(f"a.{q(k)} IS NOT DISTINCT FROM o.{q(k)}" for k in key)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE __ingest_acc AS SELECT *, hash({cols}) AS __h FROM ({select})"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE __ingest_cmp AS SELECT {', '.join('a.' + q(k) for k in key)}, "
        f"a.__h = hash({', '.join('o.' + q(c) for c in t.columns)}) AS same "
        f"FROM __ingest_acc a JOIN {q(t.name)} o ON {on}"
    )
    out.accepted = store.count("__ingest_acc")
    out.unchanged, out.replaced = (
        int(v or 0)
        for v in con.sql(
            "SELECT count(*) FILTER (same), count(*) FILTER (NOT same) FROM __ingest_cmp"
        ).fetchall()[0]
    )
    on_c = " AND ".join(f"o.{q(k)} IS NOT DISTINCT FROM c.{q(k)}" for k in key)
    on_a = on_c.replace("o.", "a.")
    with store.transaction():
        if out.replaced:
            con.execute(
                f"DELETE FROM {q(t.name)} o USING __ingest_cmp c WHERE NOT c.same AND {on_c}"
            )
        con.execute(
            f"INSERT INTO {q(t.name)} SELECT {cols} FROM __ingest_acc a "
            f"ANTI JOIN (SELECT * FROM __ingest_cmp WHERE same) c ON {on_a}"
        )
    con.execute("DROP TABLE __ingest_acc; DROP TABLE __ingest_cmp")
    return out


def _register_reasons(
    con: duckdb.DuckDBPyConnection, t: Table, pairs: list[tuple[str, str, str]]
) -> None:
    rows: dict[str, list[str]] = {"code": [], "field": [], "detail": [], "zh": [], "en": []}
    for code, field, detail in pairs:
        label = (
            "+".join(f"{t[f].label}({f})" if f in t else f for f in field.split("+"))
            if field
            else ""
        )
        zh, en = reason_text(
            code,
            field=label,
            detail=f": {detail}" if code in ("column_count", "malformed") and detail else detail,
        )
        for k, v in zip(rows, (code, field, detail, zh, en), strict=True):
            rows[k].append(v)
    con.register(
        "__ingest_reasons_arrow", pa.table({k: pa.array(v, pa.string()) for k, v in rows.items()})
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE __ingest_reasons AS SELECT * FROM __ingest_reasons_arrow"
    )
    con.unregister("__ingest_reasons_arrow")


def quarantine(store: Store, t: Table, *, batch_id: str, source: str) -> int:
    """Write the failing rows (``ERRORS``) and the reader's rejects to quarantine."""
    con = store.con
    store.ensure(QUARANTINE.name)
    pairs = con.sql(
        f"SELECT DISTINCT __e.code, coalesce(__e.field, ''), coalesce(__e.detail, '') "
        f"FROM {ERRORS} UNION SELECT DISTINCT reason_code, '', '' FROM {REJECTS}"
    ).fetchall()
    if not pairs:
        return 0
    _register_reasons(con, t, pairs)
    head = f"{lit(batch_id)}, {lit(t.name)}, {lit(source)}"
    n = con.execute(
        f"INSERT INTO {q(QUARANTINE.name)} SELECT {head}, s.__row, nullif(s.__e.field, ''), "
        f"s.__e.value, s.__e.code, r.zh, r.en, s.__record FROM {ERRORS} s "
        f"JOIN __ingest_reasons r ON r.code = s.__e.code AND r.field = coalesce(s.__e.field, '') "
        f"AND r.detail = coalesce(s.__e.detail, '')"
    ).fetchall()[0][0]
    n += con.execute(
        f"INSERT INTO {q(QUARANTINE.name)} SELECT {head}, j.__row, NULL, NULL, j.reason_code, "
        f"r.zh, r.en, j.record FROM {REJECTS} j JOIN __ingest_reasons r "
        f"ON r.code = j.reason_code AND r.field = '' AND r.detail = ''"
    ).fetchall()[0][0]
    return int(n)
