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
        value=value.cast("string"),
        other=(other.cast("string") if other is not None else ibis.null("string")),
    )


def hours(end: ir.TimestampValue, start: ir.TimestampValue) -> ir.FloatingValue:
    """Hours between two timestamps (exact, not counting hour boundaries)."""
    return (end.epoch_seconds() - start.epoch_seconds()) / 3600.0


def not_empty(t: ir.Table) -> ir.BooleanValue:
    """True when ``t`` has rows: checks comparing against an optional table stay silent without it."""
    return t.count().as_scalar() > 0
