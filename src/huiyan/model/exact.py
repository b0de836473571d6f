"""Exact payment arithmetic: factors kept at six decimals, amounts rounded once, at the fen.

In the base layer because pricing and the audit (which prices a case's standard as pricing does)
must compute money the same way and may not import each other.

Every stored ``payment`` row reproduces its amount from its own stored factors:

- paid by a standard (weight/score present): ``standard_payment = round(w × r × c, 2)`` with
  w = ``weight_or_score``, r = ``rate_or_point_value``, c = ``coefficient``, all DECIMAL(18,6);
- paid by item (weight/score and rate empty): ``standard_payment = round(actual_cost × c, 2)``
  with c the by-item factor (1, or the QY discount).

Rounding is half away from zero (the store's decimal ``round`` and Python's ``ROUND_HALF_UP``).
Factors derived from history are computed from exact decimal sums in Python, never from a
parallel float sum, so the same data gives byte-identical standards and payments on every rerun.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

import ibis

if TYPE_CHECKING:
    import ibis.expr.types as ir

FACTOR = "decimal(18, 6)"
MONEY = "decimal(16, 2)"
_SIX = Decimal("0.000001")
_FEN = Decimal("0.01")


def q6(x: Decimal | int | str | float) -> Decimal:
    """A factor at six decimals, half up (floats through their shortest repr).

    >>> q6(Decimal(2) / 3), q6("1.0000005"), q6(0.1 + 0.2)
    (Decimal('0.666667'), Decimal('1.000001'), Decimal('0.300000'))
    """
    d = x if isinstance(x, Decimal) else Decimal(str(x))
    return d.quantize(_SIX, rounding=ROUND_HALF_UP)


def fen_round(x: Decimal) -> Decimal:
    """Yuan at the fen, half away from zero.

    >>> fen_round(Decimal("2.345")), fen_round(Decimal("-2.345"))
    (Decimal('2.35'), Decimal('-2.35'))
    """
    return x.quantize(_FEN, rounding=ROUND_HALF_UP)


def amount(
    weight: Decimal | None, rate: Decimal | None, coefficient: Decimal, actual: Decimal
) -> Decimal:
    """The amount a payment row's stored factors give (the reproduction rule above).

    >>> amount(Decimal("1.234567"), Decimal("9119.220000"), Decimal("0.931200"), Decimal(0))
    Decimal('10483.72')
    >>> amount(None, None, Decimal("0.9"), Decimal("1000.05"))
    Decimal('900.05')
    """
    if weight is None or rate is None:
        return fen_round(actual * coefficient)
    return fen_round(weight * rate * coefficient)


def factor(x: ir.NumericValue) -> ir.DecimalValue:
    """A column as a six-decimal factor (a float goes through one correctly rounded cast).

    Through DECIMAL(38,6) first: Ibis types a product of two DECIMAL(18,6) as DECIMAL(18,6)
    and would drop a direct cast that the store (which widens the product) needs.
    """
    return x.cast("decimal(38, 6)").cast(FACTOR)


def lit(x: Decimal | float | str) -> ir.DecimalValue:
    """A Python factor as a DECIMAL(18,6) literal."""
    return ibis.literal(q6(x), type=FACTOR)


def product(*factors: ir.NumericValue) -> ir.DecimalValue:
    """The exact product of factors (and amounts), widened to DECIMAL(38) first: the store keeps
    a product of DECIMAL(18) operands in DECIMAL(18), which a long per-diem stay (days × rate ×
    coefficient, twelve and more decimals) overflows."""
    out = factors[0].cast("decimal(38, 6)")
    for f in factors[1:]:
        out = out * f.cast("decimal(38, 6)")
    return out


def money(x: ir.NumericValue) -> ir.DecimalValue:
    """Round once at the fen (cast through DECIMAL(38,2), see ``factor``)."""
    return x.round(2).cast("decimal(38, 2)").cast(MONEY)
