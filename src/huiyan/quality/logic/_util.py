"""Small expression helpers shared by the logic checks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

if TYPE_CHECKING:
    import ibis.expr.types as ir


def out(
    t: ir.Table,
    field: str,
    value: ir.Value,
    other: ir.Value | None = None,
) -> ir.Table:
    """The standard result shape of a check: ``setl_id, field, value, other``."""
    return t.select(
        setl_id=t.setl_id,
        field=ibis.literal(field),
        value=_text(value),
        other=(_text(other) if other is not None else ibis.null("string")),
    )


def _text(value: ir.Value) -> ir.StringValue:
    """A value as message text; quantities and prices (4 decimals) without trailing zeros, so
    a message reads 10天, not 10.0000天 (amounts keep their 2 decimals: 12.50元)."""
    dtype = value.type()
    if dtype.is_decimal() and (dtype.scale or 0) > 2:
        # Numeric, not a regex on the text: the engines write decimals and backreferences
        # differently, and QC gives the same messages on every engine.
        whole = value == value.floor()
        return ibis.ifelse(
            whole, value.cast("int64").cast("string"), value.cast("float64").cast("string")
        )
    return value.cast("string")


def hours(end: ir.TimestampValue, start: ir.TimestampValue) -> ir.FloatingValue:
    """Hours between two timestamps (exact, not counting hour boundaries)."""
    return (end.epoch_seconds() - start.epoch_seconds()) / 3600.0


def not_empty(t: ir.Table) -> ir.BooleanValue:
    """True when ``t`` has rows: checks comparing against an optional table stay silent without it."""
    return t.count().as_scalar() > 0
