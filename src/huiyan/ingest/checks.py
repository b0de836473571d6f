"""Row validation as one SQL expression per table, generated from the model.

For a reader's view (text columns, as in the file) this builds, per column, the cleaned text
(trimmed, blank as NULL) or the typed value (``TRY_CAST`` and friends: a value that does not
convert becomes NULL) and one ``CASE`` giving the first reason a row cannot be processed, as
``{field, value, code, detail}``, stored as JSON with the row as submitted. The checks, in order:
undecodable bytes, required fields, types and dates, enumerations, end before start, negative
amounts without an original line (all in the one pass that reads the file), then orphans and
duplicate keys among the rows still valid (updates of the few rows concerned).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyarrow as pa

from huiyan.engine import local
from huiyan.engine.store import _ARROW_TO_DUCK
from huiyan.ingest.rules import checks
from huiyan.model import Field, Table, codes
from huiyan.model.enums import aliases
from huiyan.model.tables import SETL_LIST

# Formats accepted besides ISO 8601 (which TRY_CAST reads): compact and slash forms that HIS
# exports commonly use.
_TIME_FORMATS = ("%Y%m%d%H%M%S", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M")
_DATE_FORMATS = ("%Y%m%d", "%Y/%m/%d")

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


def duck_type(f: Field) -> str:
    return _ARROW_TO_DUCK[str(f.type)]


def clean(expr: str) -> str:
    """``nullif(trim(x), '')``, skipping ``trim()`` for the values it cannot change.

    trim() removes spaces and the other Unicode space separators (U+3000, U+00A0...), all
    non-ASCII. It is called only when it may change the value: the value is empty or starts
    with a space or a control character (x < '!'), ends with a space, or holds a non-ASCII
    character (more bytes than characters). Any value outside that test has no end trim()
    removes, so the result is nullif(trim(x), '') for every value. The test is a byte
    comparison and two length counts: a quarter of the CPU of testing ascii() of both ends,
    a third of trim() alone, over the ASCII columns of 3M fee lines.
    """
    return (
        f"CASE WHEN {expr} < '!' OR ends_with({expr}, ' ') OR strlen({expr}) <> length({expr}) "
        f"THEN nullif(trim({expr}), '') ELSE {expr} END"
    )


def enum_code(f: Field, expr: str) -> str:
    """The code of enumeration field ``f`` for the cleaned text ``expr``: a code as it is, a
    label or alias of a code (``model.enums.aliases``: 男 for 1, 中医 for tcm) as that code,
    anything else as it is, for the enumeration check to reject."""
    if not f.enum:
        return expr
    names = aliases(f.enum)
    if not names:
        return expr
    valid = ", ".join(lit(c) for c in sorted(codes(f.enum)))
    mapped = " ".join(f"WHEN {lit(a)} THEN {lit(c)}" for a, c in sorted(names.items()))
    # The codes first: the values nearly every row holds skip the alias lookup.
    return (
        f"CASE WHEN {expr} IN ({valid}) THEN {expr} ELSE CASE {expr} {mapped} ELSE {expr} END END"
    )


def raw(col: str, alias: str = "s") -> str:
    """A column of the reader's view: the text as in the file."""
    return f"{alias}.{q(col)}"


def text(f: Field, alias: str = "s") -> str:
    """The cleaned text of field ``f`` in the inner projection of ``stage_sql``.

    Text fields are cleaned there once; a typed field keeps the file's text beside its typed
    value, and is cleaned only where a check needs the text (rows that did not convert).
    """
    return raw(f.name, alias) if f.type == pa.string() else clean(raw(f.name, alias))


def typed(f: Field, alias: str = "s") -> str:
    """SQL for the typed value of field ``f`` (NULL when blank or not convertible).

    The file's text is converted as it is (the casts accept ASCII spaces around a value);
    only a value that does not convert is converted again once trimmed of every kind of
    space. ``coalesce`` evaluates that fallback for those rows alone, so the trim costs
    nothing on the values that convert, nearly all of them.
    """
    v = raw(f.name, alias)
    if f.type == pa.string():
        return clean(v)
    return f"coalesce({_convert(f, v)}, {_convert(f, clean(v))})"


def _convert(f: Field, v: str) -> str:
    kind = str(f.type)
    if f.type == pa.timestamp("s"):
        alts = ", ".join(f"try_strptime({v}, {lit(fmt)})" for fmt in _TIME_FORMATS)
        return f"coalesce(TRY_CAST({v} AS TIMESTAMP), {alts})"
    if f.type == pa.date32():
        alts = ", ".join(f"CAST(try_strptime({v}, {lit(fmt)}) AS DATE)" for fmt in _DATE_FORMATS)
        return f"coalesce(TRY_CAST({v} AS DATE), CAST(TRY_CAST({v} AS TIMESTAMP) AS DATE), {alts})"
    if kind in ("int32", "int64"):
        # Plain digits cast exactly; spreadsheets write integers as 12.0 or 1e3, accepted when
        # whole. The store's own cast would also take 0x1A, 0b11, 1_000 and round 12.5 to 13:
        # the character tests (ltrim with a set: '' when every character is in it) keep
        # those out at the cost of a byte loop.
        d = f"TRY_CAST({v} AS DOUBLE)"
        return (
            f"CASE WHEN ltrim({v}, '0123456789+- ') = '' THEN TRY_CAST({v} AS {duck_type(f)}) "
            f"WHEN ltrim({v}, '0123456789+-.eE ') = '' AND {d} = round({d}) "
            f"THEN TRY_CAST({d} AS {duck_type(f)}) END"
        )
    if kind in _TYPE_LABEL:
        # 1_000 is a SQL literal of the store, not a number of a file; NaN and inf are checked as
        # implausible (``_plausible``), as they convert to DOUBLE.
        return f"CASE WHEN NOT contains({v}, '_') THEN TRY_CAST({v} AS {duck_type(f)}) END"
    raise TypeError(f"field {f.name}: no ingest conversion for {f.type}")


def _err(field: str, value: str, code: str, detail: str = "") -> str:
    return (
        f"{{'field': {lit(field)}, 'value': CAST({value} AS VARCHAR), "
        f"'code': {lit(code)}, 'detail': {lit(detail)}}}"
    )


def _typed_ref(name: str) -> str:
    """The column holding the typed value of ``name`` in the inner projection of ``stage_sql``."""
    return f"s.{q('__t_' + name)}"


def _plausible(t: Table, f: Field, value: str, limits: dict[str, Any]) -> tuple[str, str] | None:
    """(condition, range text) under which the typed ``value`` of ``f`` is implausible.

    ``limits`` is the ``ingest`` configuration section (``kb/data/config/ingest.yaml``).
    """
    kind = str(f.type)
    if f.type in (pa.date32(), pa.timestamp("s")):
        dates = limits.get("dates") or {}
        if t.name not in dates.get("tables", []):
            return None
        own = (dates.get("fields") or {}).get(f.name, {})
        lo, hi = str(own.get("min", dates["min"])), str(own.get("max", dates["max"]))
        if f.type == pa.date32():
            return f"{value} < DATE {lit(lo)} OR {value} > DATE {lit(hi)}", f"{lo}~{hi}"
        top = f"{hi} 23:59:59"
        return f"{value} < TIMESTAMP {lit(lo)} OR {value} > TIMESTAMP {lit(top)}", f"{lo}~{hi}"
    if f.type == pa.string() or f.type == pa.bool_():
        return None
    finite = f"NOT isfinite({value}) OR " if kind == "double" else ""
    rng = (limits.get("fields") or {}).get(f"{t.name}.{f.name}")
    if rng:
        low, high = rng
        return f"{finite}{value} < {low} OR {value} > {high}", f"{low}~{high}"
    ceilings = limits.get("ceilings") or {}
    ceiling = ceilings.get("amount" if kind == "decimal128(16, 2)" else "number")
    if ceiling is None:
        return (finite[: -len(" OR ")], "") if finite else None
    return f"{finite}abs({value}) > {ceiling}", f"-{ceiling}~{ceiling}"


def error_cases(
    t: Table,
    columns: list[str],
    *,
    damaged: bool,
    limits: dict[str, Any] | None = None,
    shape: bool = False,
) -> list[str]:
    """``WHEN cond THEN {field, value, code, detail}`` branches in check order.

    The branches read the inner projection of ``stage_sql``: the cleaned text of text fields
    and the typed values (``_typed_ref``), each converted once instead of once per check. A
    typed field's text is cleaned only for the rows whose value did not convert (the first
    condition of its branches). Orphans and duplicates need other rows and are marked
    afterwards (``orphans_sql``, ``mark_duplicates_sql``).
    """
    cfg = checks()

    def typed(f: Field) -> str:
        return raw(f.name) if f.type == pa.string() else _typed_ref(f.name)

    def missing(f: Field) -> str:
        if f.type == pa.string():
            return f"{raw(f.name)} IS NULL"
        return f"{_typed_ref(f.name)} IS NULL AND {text(f)} IS NULL"

    fields = [t[c] for c in columns]
    whens: list[str] = []
    if shape:
        whens.append(f"WHEN s.__shape IS NOT NULL THEN {_err('', 's.__shape', 'column_count')}")
    if damaged:
        joined = " || '|' || ".join(f"coalesce(s.{q(c)}, '')" for c in columns)
        whens.append(f"WHEN contains({joined}, '\ufffd') THEN {_err('', 'NULL', 'encoding')}")
    for f in fields:
        if f.required:
            whens.append(f"WHEN {missing(f)} THEN {_err(f.name, 'NULL', 'required')}")
    for f in fields:
        if f.type == pa.string():
            continue
        code = "date" if f.type in (pa.date32(), pa.timestamp("s")) else "type"
        whens.append(
            f"WHEN {_typed_ref(f.name)} IS NULL AND {text(f)} IS NOT NULL "
            f"THEN {_err(f.name, text(f), code, _TYPE_LABEL.get(str(f.type), ''))}"
        )
    for f in fields:
        bound = _plausible(t, f, _typed_ref(f.name), limits or {})
        if bound:
            cond, span = bound
            whens.append(f"WHEN {cond} THEN {_err(f.name, text(f), 'implausible', span)}")
    for f in fields:
        if f.enum:
            values = ", ".join(lit(c) for c in sorted(codes(f.enum)))
            whens.append(f"WHEN {text(f)} NOT IN ({values}) THEN {_err(f.name, text(f), 'enum')}")
    for start, end in cfg["time_order"].get(t.name, []):
        if start in columns and end in columns:
            whens.append(
                f"WHEN {typed(t[end])} < {typed(t[start])} "
                f"THEN {_err(end, text(t[end]), 'time_order')}"
            )
    refund = cfg["refunds"].get(t.name)
    signed = set(refund["columns"]) if refund else set()
    for f in fields:
        if str(f.type).startswith("decimal") or f.name in signed:
            if f.name in signed and refund["origin"] in columns:
                cond = f"{typed(f)} < 0 AND {text(t[refund['origin']])} IS NULL"
                code = "negative"
            elif f.name in signed:
                cond, code = f"{typed(f)} < 0", "negative"
            else:
                cond, code = f"{typed(f)} < 0", "negative_value"
            whens.append(f"WHEN {cond} THEN {_err(f.name, text(f), code)}")
    return whens


_ERR_TYPE = "STRUCT(field VARCHAR, value VARCHAR, code VARCHAR, detail VARCHAR)"


def stage_columns(*, numbered: bool) -> tuple[str, ...]:
    """The bookkeeping columns of a stage, after the model's."""
    return ("__row", "__e") if numbered else ("__e",)


def error_json(error: str, record: str) -> str:
    """The stage's ``__e``: an error struct and the row's record, as one JSON text.

    One text column, NULL on valid rows: every column the stage writes costs time on every
    row (a struct of four texts and a record column cost 3x one text column to store).
    """
    return f"to_json(struct_insert({error}, record := {record}))"


@contextmanager
def scan_order_kept(con: local.Connection) -> Iterator[None]:
    """While the stage is built: no optimizer rewrite that plans an expression as a join.

    The store plans a long ``IN (...)`` list (the enumeration checks) as a mark join, and a join
    reorders the rows of a parallel scan, whose order numbers them (``stage_sql``).
    """
    before = str(con.sql("SELECT current_setting('disabled_optimizers')").fetchall()[0][0])
    names = ",".join(n for n in (before, "in_clause") if n)
    con.execute(f"SET disabled_optimizers = {lit(names)}")
    try:
        yield
    finally:
        con.execute(f"SET disabled_optimizers = {lit(before)}")


def stage_sql(
    t: Table,
    columns: list[str],
    raw_view: str,
    *,
    damaged: bool,
    numbered: bool,
    limits: dict[str, Any] | None = None,
    shape: bool = False,
) -> str:
    """SELECT turning the text rows of ``raw_view`` into typed rows with their first error.

    Columns: every model column of ``t`` in model order (text cleaned, values typed; NULL when
    the file lacks the column), then ``__row`` (the file row, when the reader numbers rows
    itself, ``numbered``; else the row is the stage's rowid, see ``readers.row_number_sql``)
    and ``__e`` (NULL, or the error with the row as submitted, ``error_json``).
    It has the layout of the stored table plus the bookkeeping columns, so a first load keeps
    the stage as the table instead of copying it (``load.load_accepted``).

    The query is a projection of the reader's scan and nothing else: no join (run it inside
    ``scan_order_kept``), so the scan's order, the file's, is the order of insertion, which
    numbers the rows for free.
    """
    whens = error_cases(t, columns, damaged=damaged, limits=limits, shape=shape)
    case = f"CASE {' '.join(whens)} END" if whens else f"CAST(NULL AS {_ERR_TYPE})"
    fields = [t[c] for c in columns]
    row = ", s.__row" if numbered else ""
    # Innermost: each text cleaned and each value converted once; the checks and the stored
    # column both read it. The file's text is kept as __raw_i for the record.
    convert = ", ".join(
        f"{clean(raw(f.name))} AS {q(f.name)}"
        if f.type == pa.string()
        else f"{raw(f.name)}, {typed(f)} AS {q('__t_' + f.name)}"
        for f in fields
    )
    raw_cols = "".join(f", s.{q(c)} AS __raw_{i}" for i, c in enumerate(columns))
    raw_cols += ", s.__shape" if shape else ""
    convert = f"SELECT {convert}{row}{raw_cols} FROM {raw_view} s"
    # Labels and aliases of enumeration codes become the codes, on the cleaned text.
    mapped = {f.name: enum_code(f, raw(f.name)) for f in fields if f.type == pa.string()}
    coded = [f"{expr} AS {q(name)}" for name, expr in mapped.items() if expr != raw(name)]
    if coded:
        convert = f"SELECT * REPLACE ({', '.join(coded)}) FROM ({convert}) s"
    stored = ", ".join(
        (raw(f.name) if f.type == pa.string() else _typed_ref(f.name)) + f" AS {q(f.name)}"
        if f.name in columns
        else f"CAST(NULL AS {duck_type(f)}) AS {q(f.name)}"
        for f in t.fields
    )
    raw_refs = "".join(f", s.__raw_{i}" for i in range(len(columns)))
    inner = f"SELECT {stored}{row}, {case} AS __e{raw_refs} FROM ({convert}) s"
    record = "{" + ", ".join(f"{lit(c)}: __raw_{i}" for i, c in enumerate(columns)) + "}"
    out = ", ".join(q(c) for c in t.columns)
    return (
        f"SELECT {out}{row.replace('s.', '')}, "
        f"CASE WHEN __e IS NOT NULL THEN {error_json('__e', record)} END AS __e FROM ({inner})"
    )


def truncated_sql(stage: str) -> str:
    """UPDATE calling the last row ``truncated`` when it has fields missing (a cut file)."""
    return (
        f'UPDATE {stage} SET __e = CAST(json_merge_patch(__e, \'{{"code": "truncated"}}\') '
        f"AS VARCHAR) WHERE rowid = (SELECT max(rowid) FROM {stage}) "
        f"AND __e->>'code' = 'column_count' AND __e->>'value' = 'missing'"
    )


def _stored_record(columns: list[str], alias: str) -> str:
    """The row as JSON from the stage's typed values (for rows failing a later check)."""
    return "{" + ", ".join(f"{lit(c)}: CAST({alias}.{q(c)} AS VARCHAR)" for c in columns) + "}"


def orphans_sql(t: Table, columns: list[str], stage: str, *, parent_exists: bool) -> str | None:
    """UPDATE marking valid rows whose parent settlement is not stored (None: no parent)."""
    parent = checks()["parents"].get(t.name)
    if not parent:
        return None
    ((child_col, parent_col),) = parent.items()
    cond = (
        f"NOT EXISTS (SELECT 1 FROM {q(SETL_LIST.name)} p "
        f"WHERE p.{q(parent_col)} = s.{q(child_col)})"
        if parent_exists
        else "true"
    )
    return (
        f"UPDATE {stage} AS s SET __e = "
        f"{error_json(_err(child_col, raw(child_col), 'orphan'), _stored_record(columns, 's'))} "
        f"WHERE s.__e IS NULL AND {cond}"
    )


def _key(t: Table, columns: list[str]) -> list[str] | None:
    key = [k for k in t.key if k in columns]
    return key if key and len(key) == len(t.key) else None


def duplicate_hashes_sql(t: Table, columns: list[str], stage: str) -> str | None:
    """SELECT of the key hashes (``__h``) occurring more than once among valid rows.

    The first of two steps (None: the table has no key in this file). The 64-bit hashes of
    the keys are sorted and each compared with the one before it: on 30M fee lines this
    takes 2.0-2.3 s, where grouping by the hash took 6.5-7.9 s (a hash table of 30M groups,
    most of it page faults) and grouping by the two text columns of the key longer still.
    A file without duplicates, the usual one, stops here.
    """
    key = _key(t, columns)
    if not key:
        return None
    hashed = f"SELECT hash({', '.join(q(k) for k in key)}) AS __h FROM {stage} WHERE __e IS NULL"
    return (
        f"SELECT DISTINCT __h FROM (SELECT __h, __h = lag(__h) OVER (ORDER BY __h) AS __again "
        f"FROM ({hashed})) WHERE __again"
    )


def duplicate_keys_sql(t: Table, columns: list[str], stage: str, hashes: str) -> str:
    """SELECT of the key values occurring more than once among valid rows.

    The second step: only the rows whose hash is in the table ``hashes`` (from
    ``duplicate_hashes_sql``) are grouped by the key itself, which tells the rare hash
    collisions apart from true duplicates.
    """
    keys = ", ".join(q(k) for k in _key(t, columns) or [])
    return (
        f"SELECT {keys} FROM {stage} WHERE __e IS NULL "
        f"AND hash({keys}) IN (SELECT __h FROM {hashes}) GROUP BY ALL HAVING count(*) > 1"
    )


def mark_duplicates_sql(t: Table, columns: list[str], stage: str, dup_keys: str) -> str:
    """UPDATE marking the later valid occurrences of each duplicated key as errors.

    Duplicates compete only among rows otherwise valid: the first valid occurrence (in file
    order, which is the stage's rowid order) is kept.
    """
    key = [k for k in t.key if k in columns]
    keys = ", ".join(q(k) for k in key)
    value = " || '|' || ".join(f"CAST({q(k)} AS VARCHAR)" for k in key)
    return (
        f"UPDATE {stage} AS s SET __e = "
        f"{error_json(_err('+'.join(key), value, 'duplicate_key'), _stored_record(columns, 's'))} "
        f"WHERE rowid IN (SELECT __r FROM "
        f"(SELECT __r, row_number() OVER (PARTITION BY {keys} ORDER BY __r) AS __n "
        f"FROM (SELECT rowid AS __r, {keys} FROM {stage} WHERE __e IS NULL) "
        f"SEMI JOIN ({dup_keys}) USING ({keys})) WHERE __n > 1)"
    )
