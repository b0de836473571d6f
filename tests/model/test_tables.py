from __future__ import annotations

import pyarrow as pa
import pytest

from huiyan.model import TABLES, codes, table
from huiyan.model.coding import is_asterisk_only, normalize_diag, normalize_oprn


def test_every_enum_named_by_a_field_exists() -> None:
    for t in TABLES.values():
        for f in t.fields:
            if f.enum:
                assert codes(f.enum), f"{t.name}.{f.name} names empty enum {f.enum}"


def test_aliases_do_not_collide_with_other_fields() -> None:
    for t in TABLES.values():
        names = set(t.columns)
        seen: set[str] = set()
        for f in t.fields:
            for alias in f.aliases:
                assert alias not in names, f"{t.name}: alias {alias} is also a field"
                assert alias not in seen, f"{t.name}: alias {alias} used twice"
                seen.add(alias)


def test_conform_orders_casts_and_fills() -> None:
    t = table("finding")
    data = pa.table({"vola_amt": pa.array([1.25]), "jr_id": ["x"]})
    out = t.conform(data)
    assert out.column_names == t.columns
    assert out.schema.field("vola_amt").type == pa.decimal128(16, 2)
    assert out.column("rule_id").null_count == 1


def test_unknown_table_names_known_ones() -> None:
    with pytest.raises(KeyError, match="setl_list"):
        table("setl_lst")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" s32.000X011 ", "S32.000x011"),
        ("e11.400x024+g63.2*", "E11.400x024+G63.2*"),
        ("E11.4†G63.2*", "E11.4+G63.2*"),
        ("Ｊ１８．９００", "J18.900"),
        ("X59.900", "X59.900"),
        ("", None),
    ],
)
def test_normalize_diag(raw: str, expected: str | None) -> None:
    assert normalize_diag(raw) == expected


def test_normalize_oprn_and_asterisk() -> None:
    assert normalize_oprn(" 00.6600X004 ") == "00.6600x004"
    assert is_asterisk_only("G63.2*")
    assert not is_asterisk_only("E11.400x024+G63.2*")


def test_schemas_and_empty_tables_are_built_once_and_shared() -> None:
    # The real-time audit asks for them on every request (an empty settlement table costs
    # ~1.8 ms to build): kept per table, and immutable, so sharing is safe.
    setl = table("setl_list")
    assert setl.schema is setl.schema
    assert setl.arrow_schema() is setl.arrow_schema()
    assert setl.empty() is setl.empty()
    assert setl.empty_result() is setl.empty_result()
    assert setl.empty().schema.equals(setl.schema) and setl.empty().num_rows == 0
    # Results use the all-nullable schema; the canonical one keeps the required fields.
    result = setl.empty_result()
    assert result.num_rows == 0 and result.schema.equals(setl.arrow_schema())
    assert all(f.nullable for f in result.schema)
    assert not all(f.nullable for f in setl.schema)
    assert result.schema.names == setl.columns
