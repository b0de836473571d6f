"""Row validation as one SQL expression per table, generated from the model.

For a staging table (text columns) this builds, per column, the typed value (``TRY_CAST`` and
friends: a value that does not convert becomes NULL) and one ``CASE`` giving the first reason
a row cannot be processed, as ``{field, value, code}``. The checks, in order: undecodable
bytes, required fields, types and dates, enumerations, end before start, negative amounts
without an original line, orphans, then duplicate keys among the rows still valid.
"""

from __future__ import annotations

import pyarrow as pa

from huiyan.ingest.rules import checks
from huiyan.model import Field, Table, codes
from huiyan.model.tables import SETL_LIST

# Formats accepted besides ISO 8601 (which TRY_CAST reads): compact and slash forms that HIS
# exports commonly use.
_TIME_FORMATS = ("%Y%m%d%H%M%S", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M")
_DATE_FORMATS = ("%Y%m%d", "%Y/%m/%d")

_DUCK = {
    "int32": "INTEGER",
    "int64": "BIGINT",
    "double": "DOUBLE",
    "decimal128(16, 2)": "DECIMAL(16,2)",
    "decimal128(18, 4)": "DECIMAL(18,4)",
}
_TYPE_LABEL = {
    "int32": "整数 integer",
    "int64": "整数 integer",
    "double": "数值 number",
    "decimal128(16, 2)": "金额 amount",
    "decimal128(18, 4)": "数值 number",
}


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def raw(col: str, alias: str = "s") -> str:
    """The text of a staged column (readers stage it trimmed, blank as NULL)."""
    return f"{alias}.{q(col)}"


def typed(f: Field, alias: str = "s") -> str:
    """SQL for the typed value of field ``f`` (NULL when blank or not convertible)."""
    v = raw(f.name, alias)
    kind = str(f.type)
    if f.type == pa.string():
        return v
    if f.type == pa.timestamp("s"):
        alts = ", ".join(f"try_strptime({v}, {lit(fmt)})" for fmt in _TIME_FORMATS)
        return f"coalesce(TRY_CAST({v} AS TIMESTAMP), {alts})"
    if f.type == pa.date32():
        alts = ", ".join(f"CAST(try_strptime({v}, {lit(fmt)}) AS DATE)" for fmt in _DATE_FORMATS)
        return f"coalesce(TRY_CAST({v} AS DATE), CAST(TRY_CAST({v} AS TIMESTAMP) AS DATE), {alts})"
    if kind in ("int32", "int64"):
        # Spreadsheets write integers as 12.0; accept a whole number in any notation.
        d = f"TRY_CAST({v} AS DOUBLE)"
        return (
            f"coalesce(TRY_CAST({v} AS {_DUCK[kind]}), "
            f"CASE WHEN {d} = round({d}) THEN TRY_CAST({d} AS {_DUCK[kind]}) END)"
        )
    if kind in _DUCK:
        return f"TRY_CAST({v} AS {_DUCK[kind]})"
    raise TypeError(f"field {f.name}: no ingest conversion for {f.type}")


def _err(field: str, value: str, code: str, detail: str = "") -> str:
    return (
        f"{{'field': {lit(field)}, 'value': CAST({value} AS VARCHAR), "
        f"'code': {lit(code)}, 'detail': {lit(detail)}}}"
    )


def _typed_ref(name: str) -> str:
    """The column holding the typed value of ``name`` in the projection of ``stage_sql``."""
    return f"s.{q('__t_' + name)}"


def error_cases(t: Table, columns: list[str], *, damaged: bool) -> list[str]:
    """``WHEN cond THEN {field, value, code, detail}`` branches in check order.

    The branches read the typed values already computed by the inner projection of
    ``stage_sql`` (``_typed_ref``): converting once instead of once per check halves the cost of
    the parse-heavy timestamp columns.
    """
    cfg = checks()

    def typed(f: Field) -> str:
        return raw(f.name) if f.type == pa.string() else _typed_ref(f.name)

    fields = [t[c] for c in columns]
    whens: list[str] = []
    if damaged:
        joined = " || '|' || ".join(f"coalesce(s.{q(c)}, '')" for c in columns)
        whens.append(f"WHEN contains({joined}, '\ufffd') THEN {_err('', 'NULL', 'encoding')}")
    for f in fields:
        if f.required:
            whens.append(f"WHEN {raw(f.name)} IS NULL THEN {_err(f.name, 'NULL', 'required')}")
    for f in fields:
        if f.type == pa.string():
            continue
        code = "date" if f.type in (pa.date32(), pa.timestamp("s")) else "type"
        whens.append(
            f"WHEN {raw(f.name)} IS NOT NULL AND {typed(f)} IS NULL "
            f"THEN {_err(f.name, raw(f.name), code, _TYPE_LABEL.get(str(f.type), ''))}"
        )
    for f in fields:
        if f.enum:
            values = ", ".join(lit(c) for c in sorted(codes(f.enum)))
            whens.append(
                f"WHEN {raw(f.name)} NOT IN ({values}) THEN {_err(f.name, raw(f.name), 'enum')}"
            )
    for start, end in cfg["time_order"].get(t.name, []):
        if start in columns and end in columns:
            whens.append(
                f"WHEN {typed(t[end])} < {typed(t[start])} THEN {_err(end, raw(end), 'time_order')}"
            )
    refund = cfg["refunds"].get(t.name)
    signed = set(refund["columns"]) if refund else set()
    for f in fields:
        if str(f.type).startswith("decimal") or f.name in signed:
            if f.name in signed and refund["origin"] in columns:
                cond = f"{typed(f)} < 0 AND {raw(refund['origin'])} IS NULL"
                code = "negative"
            elif f.name in signed:
                cond, code = f"{typed(f)} < 0", "negative"
            else:
                cond, code = f"{typed(f)} < 0", "negative_value"
            whens.append(f"WHEN {cond} THEN {_err(f.name, raw(f.name), code)}")
    parent = cfg["parents"].get(t.name)
    if parent:
        ((child_col, _),) = parent.items()
        whens.append(f"WHEN s.__parent IS NULL THEN {_err(child_col, raw(child_col), 'orphan')}")
    return whens


def parent_join(t: Table, *, parent_exists: bool) -> str:
    """``LEFT JOIN`` of the parent keys for the orphan check ('' when the table has no parent)."""
    parent = checks()["parents"].get(t.name)
    if not parent:
        return ""
    ((child_col, parent_col),) = parent.items()
    source = (
        f"SELECT DISTINCT {q(parent_col)} AS __parent FROM {q(SETL_LIST.name)}"
        if parent_exists
        else "SELECT NULL::VARCHAR AS __parent WHERE false"
    )
    return f"LEFT JOIN ({source}) p ON p.__parent = {raw(child_col)}"


_ERR_TYPE = "STRUCT(field VARCHAR, value VARCHAR, code VARCHAR, detail VARCHAR)"


def stage_sql(
    t: Table, columns: list[str], raw_view: str, *, damaged: bool, parent_exists: bool
) -> str:
    """SELECT turning the text rows of ``raw_view`` into typed rows with their first error.

    Columns: ``__k`` (the reader's ordinal), ``__row`` (file row; renumbered around rejected
    lines later), the typed model columns present, ``__e`` (NULL or the error struct) and
    ``__record`` (the row as submitted, JSON, only for rows with an error). One read of the
    file: the conversion done for the checks is the one stored (re-reading a CSV costs more
    than keeping the typed rows in a temporary table).
    """
    whens = error_cases(t, columns, damaged=damaged)
    case = f"CASE {' '.join(whens)} END" if whens else f"CAST(NULL AS {_ERR_TYPE})"
    fields = [t[c] for c in columns]
    converted = "".join(
        f", {typed(f)} AS {q('__t_' + f.name)}" for f in fields if f.type != pa.string()
    )
    join = parent_join(t, parent_exists=parent_exists)
    parent = ", p.__parent" if join else ""
    # Innermost: each value converted once; the checks and the stored column both read it.
    convert = (
        f"SELECT s.__row{''.join(f', s.{q(c)}' for c in columns)}{converted}{parent} "
        f"FROM {raw_view} s {join}"
    )
    typed_cols = "".join(
        f", {raw(f.name) if f.type == pa.string() else _typed_ref(f.name)} AS {q(f.name)}"
        for f in fields
    )
    raw_cols = "".join(f", s.{q(c)} AS __raw_{i}" for i, c in enumerate(columns))
    inner = f"SELECT s.__row{typed_cols}, {case} AS __e{raw_cols} FROM ({convert}) s"
    record = "to_json({" + ", ".join(f"{lit(c)}: __raw_{i}" for i, c in enumerate(columns)) + "})"
    out = "".join(f", {q(c)}" for c in columns)
    return (
        f"SELECT __row AS __k, __row{out}, __e, "
        f"CASE WHEN __e IS NOT NULL THEN {record} END AS __record FROM ({inner})"
    )


def duplicate_keys_sql(t: Table, columns: list[str], stage: str) -> str | None:
    """SELECT of the key values occurring more than once among valid rows (None: no key)."""
    key = [k for k in t.key if k in columns]
    if not key or len(key) < len(t.key):
        return None
    keys = ", ".join(q(k) for k in key)
    return f"SELECT {keys} FROM {stage} WHERE __e IS NULL GROUP BY ALL HAVING count(*) > 1"


def mark_duplicates_sql(t: Table, columns: list[str], stage: str, dup_keys: str) -> str:
    """UPDATE marking the later valid occurrences of each duplicated key as errors.

    Duplicates compete only among rows otherwise valid: the first valid occurrence is kept.
    """
    key = [k for k in t.key if k in columns]
    keys = ", ".join(q(k) for k in key)
    value = " || '|' || ".join(f"CAST({q(k)} AS VARCHAR)" for k in key)
    record = "to_json({" + ", ".join(f"{lit(c)}: {q(c)}" for c in columns) + "})"
    return (
        f"UPDATE {stage} SET __e = {_err('+'.join(key), value, 'duplicate_key')}, "
        f"__record = {record} WHERE __row IN (SELECT __row FROM (SELECT __row, row_number() "
        f"OVER (PARTITION BY {keys} ORDER BY __row) AS __n FROM (SELECT * FROM {stage} "
        f"WHERE __e IS NULL) SEMI JOIN ({dup_keys}) USING ({keys})) WHERE __n > 1)"
    )
