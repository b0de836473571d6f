"""Money arithmetic in integer fen: exact shares and the largest-remainder allocation."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

import numpy as np


def to_fen(yuan: Decimal | float | int | str) -> int:
    """Yuan to integer fen, half up (floats go through their shortest repr).

    >>> to_fen(Decimal("12.345")), to_fen(0.1 + 0.2), to_fen("-1.005")
    (1235, 30, -101)
    """
    d = yuan if isinstance(yuan, Decimal) else Decimal(str(yuan))
    return int((d * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def share_fen(amount_fen: int, share: Decimal | float | str, *, floor: bool = False) -> int:
    """``amount_fen × share`` in fen, half up (or floored), computed in Decimal.

    >>> share_fen(1001, "0.95"), share_fen(1001, "0.95", floor=True)
    (951, 950)
    """
    value = Decimal(amount_fen) * Decimal(str(share))
    return int(value.quantize(Decimal(1), rounding=ROUND_FLOOR if floor else ROUND_HALF_UP))


def largest_remainder(total_fen: int, weights: Sequence[float] | np.ndarray) -> np.ndarray:
    """Split ``total_fen`` over ``weights`` so the parts sum to it exactly (Hamilton's method).

    Each part gets the floor of its exact quota; the fen left over go one each to the largest
    remainders (ties: earlier position). Zero total weight gives nothing to anyone.

    >>> largest_remainder(100, [1, 1, 1]).tolist()
    [34, 33, 33]
    >>> largest_remainder(10, [0.5, 0.25, 0.25]).tolist()
    [5, 3, 2]
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.size == 0 or total_fen == 0:
        return np.zeros(w.size, dtype=np.int64)
    if (w < 0).any():
        raise ValueError("weights must not be negative")
    s = w.sum()
    if s <= 0:
        raise ValueError("cannot allocate over weights that sum to zero")
    quota = w / s * total_fen
    base = np.floor(quota).astype(np.int64)
    # Float quotas can land a hair off an integer; the leftover is still settled exactly below.
    left = int(total_fen - base.sum())
    if left:
        order = np.lexsort((np.arange(w.size), -(quota - base)))
        if left > 0:
            base[order[:left]] += 1
        else:
            base[order[::-1][:-left]] -= 1
    return base
