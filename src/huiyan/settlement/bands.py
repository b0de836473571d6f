"""Year-end clearing bands 结余留用、合理超支分担 (§1.6): how surplus and overspend are shared."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any


def _banded(amount_fen: int, base_fen: int, bands: Sequence[dict[str, Any]], key: str) -> Decimal:
    """Σ over bands of (part of ``amount`` in the band) × band share; edges are ratios of base."""
    total = Decimal(0)
    lower = Decimal(0)
    for band in bands:
        upper = (
            Decimal(str(band["upto"])) * base_fen
            if band["upto"] is not None
            else Decimal(amount_fen)
        )
        part = max(Decimal(0), min(Decimal(amount_fen), upper) - lower)
        total += part * Decimal(str(band[key]))
        lower = max(lower, upper)
        if lower >= amount_fen:
            break
    return total


def clearing_adjustment(
    standard_fen: int,
    actual_fen: int,
    *,
    surplus_bands: Sequence[dict[str, Any]],
    overspend_bands: Sequence[dict[str, Any]],
) -> int:
    """Fund payment above (+) or below (−) the standard after surplus/overspend sharing.

    Surplus (cost below standard): the hospital keeps ``hospital_share`` of each band's part,
    the rest stays with the fund. Overspend: the fund bears ``fund_share`` of each band's part.
    Band edges are ratios of the standard. With the defaults (keep all surplus up to 15 %, half
    beyond; fund bears half of overspend up to 10 %, none beyond):

    >>> S = [{"upto": 0.15, "hospital_share": 1.0}, {"upto": None, "hospital_share": 0.5}]
    >>> O = [{"upto": 0.10, "fund_share": 0.5}, {"upto": None, "fund_share": 0.0}]
    >>> clearing_adjustment(100_000_000, 80_000_000, surplus_bands=S, overspend_bands=O)
    -2500000
    >>> clearing_adjustment(100_000_000, 115_000_000, surplus_bands=S, overspend_bands=O)
    5000000
    >>> clearing_adjustment(100_000_000, 90_000_000, surplus_bands=S, overspend_bands=O)
    0
    """
    diff = actual_fen - standard_fen
    if diff < 0:
        kept = _banded(-diff, standard_fen, surplus_bands, "hospital_share")
        value = -(Decimal(-diff) - kept)
    elif diff > 0:
        value = _banded(diff, standard_fen, overspend_bands, "fund_share")
    else:
        return 0
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))
