"""Safe outputs: desensitised personal data, no live formulas, file names that stay in place.

Shared by every writer of reports and exports (CLI, service, dashboard):

- **Masking** follows ``Field.privacy`` in ``huiyan.model`` (the one place that says which
  columns are personal data). Names keep their first character, identity numbers their first 3
  and last 4, phones their last 4, addresses their first 6 characters, birth dates their year;
  ``psn_no`` becomes a keyed pseudonym ``P`` + 16 hex digits of sha256(store secret + value), so
  one person keeps one pseudonym within a store (cross-case audit still works) and the
  pseudonym cannot be reversed by trying every number without the secret. The secret is
  generated once per store and kept in it (table ``privacy_key``), never exported.
- **Formula injection** (OWASP CSV injection): a text cell starting with ``= + - @``, tab or
  CR is written as text: prefixed with ``'`` in CSV, a quote-prefixed string cell in xlsx.
  Numbers stay numbers.
- **File names** derived from data (institution codes …) lose path separators, wildcards and
  control characters, so ``../x`` cannot leave the output folder.

The same rules exist as SQL (for exports streamed from the store file without loading rows
into Python) and as Python (for Arrow tables); tests hold the two to identical results.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import date, datetime
from functools import cache
from typing import TYPE_CHECKING

import pyarrow as pa

from huiyan.model import TABLES

if TYPE_CHECKING:
    from huiyan.engine import Store

KEY_TABLE = "privacy_key"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_RE = "^[=+@\t\r-]"
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


# --------------------------------------------------------------------------- privacy


@cache
def privacy_of(column: str, table: str | None = None) -> str | None:
    """The privacy kind of ``column`` (of ``table`` when given and declared, else by name)."""
    if table is not None and table in TABLES and column in TABLES[table]:
        return TABLES[table][column].privacy
    kinds = {t[column].privacy for t in TABLES.values() if column in t}
    kinds.discard(None)
    return kinds.pop() if len(kinds) == 1 else None


def personal_columns(columns: list[str], table: str | None = None) -> dict[str, str]:
    """The columns among ``columns`` that hold personal data, with their privacy kind."""
    return {c: kind for c in columns if (kind := privacy_of(c, table)) is not None}


def store_key(store: Store) -> str:
    """The store's pseudonymisation secret (created on first use; needs a writable store)."""
    if store.has(KEY_TABLE):
        rows = store.con.sql(f"select secret from {KEY_TABLE} limit 1").fetchall()
        if rows:
            return str(rows[0][0])
    secret = secrets.token_hex(32)
    # One transaction: a run killed between the two never leaves an empty key table behind.
    with store.transaction():
        store.con.execute(f"create table if not exists {KEY_TABLE} (secret varchar not null)")
        store.con.execute(f"insert into {KEY_TABLE} values (?)", [secret])
    return secret


def pseudonym(value: str, key: str) -> str:
    """The keyed pseudonym of a personal insurance number."""
    return "P" + hashlib.sha256((key + value).encode("utf-8")).hexdigest()[:16]


def mask_value(kind: str, value: object, key: str = "") -> object:
    """``value`` as a desensitised export shows it (``None`` stays ``None``)."""
    if value is None:
        return None
    if kind == "birthdate":
        return str(value.year) if isinstance(value, date | datetime) else str(value)[:4]
    text = str(value)
    n = len(text)
    if kind == "name":
        return text[:1] + "*" * (n - 1)
    if kind == "id":
        return text[:3] + "*" * max(n - 7, 0) + text[-4:] if n > 7 else "*" * n
    if kind == "phone":
        return "*" * max(n - 4, 0) + text[-4:] if n > 4 else "*" * n
    if kind == "address":
        return text[:6] + "***" if n > 6 else text[:1] + "***"
    if kind == "person":
        return pseudonym(text, key)
    raise ValueError(f"unknown privacy kind {kind!r}")


def mask_sql(kind: str, column: str, key: str) -> str:
    """The store's SQL expression of ``mask_value`` for quoted column ``column``."""
    c = f'"{column}"'
    lit = "'" + key.replace("'", "''") + "'"
    return {
        "name": f"left({c}, 1) || repeat('*', length({c}) - 1)",
        "id": f"case when length({c}) > 7 then left({c}, 3) || repeat('*', length({c}) - 7) "
        f"|| right({c}, 4) else repeat('*', length({c})) end",
        "phone": f"case when length({c}) > 4 then repeat('*', length({c}) - 4) || right({c}, 4) "
        f"else repeat('*', length({c})) end",
        "address": f"case when length({c}) > 6 then left({c}, 6) || '***' "
        f"else left({c}, 1) || '***' end",
        "birthdate": f"left(cast({c} as varchar), 4)",
        "person": f"'P' || left(sha256({lit} || {c}), 16)",
    }[kind]


def mask_table(data: pa.Table, key: str, table: str | None = None) -> pa.Table:
    """``data`` with its personal columns desensitised."""
    for column, kind in personal_columns(data.column_names, table).items():
        i = data.column_names.index(column)
        values = [mask_value(kind, v, key) for v in data.column(i).to_pylist()]
        data = data.set_column(i, column, pa.array(values, pa.string()))
    return data


# --------------------------------------------------------------------------- formulas


def is_formula_like(value: object) -> bool:
    """Text a spreadsheet would take for a formula (or a command)."""
    return isinstance(value, str) and value.startswith(FORMULA_START)


def neutralise(value: str) -> str:
    """Text made inert for CSV (a leading apostrophe, as OWASP recommends)."""
    return "'" + value if is_formula_like(value) else value


def neutralise_sql(expr: str) -> str:
    """The store's SQL of ``neutralise`` around a text expression (e.g. a quoted column)."""
    quote = "''''"  # SQL for a one-apostrophe string
    return (
        f"case when regexp_matches({expr}, '{_FORMULA_RE}') then {quote} || {expr} else {expr} end"
    )


# --------------------------------------------------------------------------- file names


def safe_filename(text: str, fallback: str = "未命名") -> str:
    """``text`` usable as one file name: no separators, wildcards, control characters or
    leading dots, at most 100 characters."""
    name = _UNSAFE_NAME.sub("_", text).strip().lstrip(".").strip()
    return name[:100] or fallback
