"""Field and table declarations: the vocabulary the table catalog in ``tables.py`` is written in."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import pyarrow as pa

# Arrow types used by the canonical tables. Money is DECIMAL so sums reconcile to the fen
# on every engine (float sums drifted between the engines).
STR = pa.string()
INT = pa.int32()
BIGINT = pa.int64()
FLOAT = pa.float64()
BOOL = pa.bool_()
DATE = pa.date32()
TIME = pa.timestamp("s")
MONEY = pa.decimal128(16, 2)
QTY = pa.decimal128(18, 4)
FACTOR = pa.decimal128(18, 6)  # payment factors (weights, rates, coefficients), exact


@dataclass(frozen=True)
class Field:
    """One column: its national interface name, Arrow type and Chinese label.

    ``required`` means a row without a value cannot be processed at all and is quarantined at
    ingest; completeness of the national settlement-list standard is a QC matter, not this.
    ``enum`` names an enumeration in ``data/enums.yaml`` whose codes the value must be one of.
    ``aliases`` are other names the same column has in national interface messages or exports.
    ``privacy`` marks personal data, masked in reports and exports by default (see
    ``PRIVACY``; ``huiyan.report.safe`` applies it).
    """

    name: str
    type: pa.DataType
    label: str
    required: bool = False
    enum: str | None = None
    aliases: tuple[str, ...] = ()
    doc: str = ""
    privacy: str | None = None

    def __post_init__(self) -> None:
        if self.privacy is not None and self.privacy not in PRIVACY:
            raise ValueError(f"field {self.name}: unknown privacy kind {self.privacy!r}")


# Kinds of personal data and how an export shows them when masked (desensitised by default).
PRIVACY: dict[str, str] = {
    "name": "a person's name: first character kept, 张**",
    "id": "an identity document number: first 3 and last 4 characters kept",
    "phone": "a telephone number: last 4 digits kept",
    "address": "an address: first 6 characters (province, city) kept",
    "birthdate": "a date of birth: year kept",
    "person": "a person's insurance number: replaced by a keyed pseudonym (same person, same "
    "pseudonym within one store)",
}


@dataclass(frozen=True)
class Table:
    """A canonical table: its fields in order, key and Chinese label."""

    name: str
    label: str
    fields: tuple[Field, ...]
    key: tuple[str, ...] = ()
    doc: str = ""
    by_name: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"table {self.name}: duplicate field names")
        missing = [k for k in self.key if k not in names]
        if missing:
            raise ValueError(f"table {self.name}: key fields {missing} are not fields")
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def required(self) -> list[str]:
        return [f.name for f in self.fields if f.required]

    # Schemas and the empty table are kept: building them costs 30-150 µs a call (and an
    # empty table of the 85 settlement columns 1.8 ms), and the real-time audit asks for
    # them on every request. Arrow schemas and tables are immutable, so sharing them is safe.
    @cached_property
    def schema(self) -> pa.Schema:
        return pa.schema(
            [pa.field(f.name, f.type, nullable=not f.required) for f in self.fields],
            metadata={"table": self.name, "label": self.label},
        )

    def __getitem__(self, name: str) -> Field:
        return self.by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self.by_name

    def empty(self) -> pa.Table:
        """An empty Arrow table with this schema."""
        return self._empty

    @cached_property
    def _empty(self) -> pa.Table:
        return self.schema.empty_table()

    def conform(self, data: pa.Table) -> pa.Table:
        """Reorder ``data`` to this table's fields, add missing ones as nulls, cast types.

        The result's schema is all-nullable: engines that produce results do not track
        nullability, and ``required`` is enforced at ingest, not by Arrow.
        """
        arrays = [
            data.column(f.name).cast(f.type)
            if f.name in data.column_names
            else pa.nulls(data.num_rows, f.type)
            for f in self.fields
        ]
        return pa.Table.from_arrays(arrays, schema=self.arrow_schema())

    def arrow_schema(self) -> pa.Schema:
        """The all-nullable Arrow schema results and stored tables use."""
        return self._arrow_schema

    @cached_property
    def _arrow_schema(self) -> pa.Schema:
        return pa.schema(
            [pa.field(f.name, f.type) for f in self.fields], metadata=self.schema.metadata
        )

    def empty_result(self) -> pa.Table:
        """An empty table with the all-nullable schema (no rows found)."""
        return self._empty_result

    @cached_property
    def _empty_result(self) -> pa.Table:
        return self._arrow_schema.empty_table()
