"""Payment formulas (domain-reference §1.2–1.4, §2.2–2.5) as small pure functions.

The arithmetic ones use only operators, so the same function prices one number in a test and
a whole column when handed Ibis expressions: the table logic in ``drg.py`` and ``dip.py``
calls these instead of restating them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

# A number or an Ibis column; defaults are ints so that they combine with Decimal as well as float.
N = TypeVar("N", bound=Any)


def relative_weight(group_mean: N, grand_mean: N) -> N:
    """RW_g = group mean cost / mean cost of all cases (§1.2).

    >>> relative_weight(15_000, 10_000), relative_weight(6_000, 10_000)
    (1.5, 0.6)
    """
    return group_mean / grand_mean


def cmi(weights: Sequence[float]) -> float:
    """Case-mix index: mean relative weight of the grouped cases.

    >>> round(cmi([1.5] * 300 + [0.6] * 700), 6)
    0.87
    """
    return sum(weights) / len(weights)


def weighted_mean(values: Sequence[float], weights: Sequence[float]) -> float:
    """Year-weighted mean (1:2:7 oldest → newest, §2.2).

    >>> weighted_mean([8_000, 9_000, 10_000], [1, 2, 7])
    9600.0
    """
    return sum(v * w for v, w in zip(values, weights, strict=True)) / sum(weights)


def base_rate(forecast_cost: N, forecast_weight: N) -> N:
    """Rate method 费率 = forecast total cost / forecast total RW (§1.3).

    >>> base_rate(1_080_000_000, 108_000)
    10000.0
    """
    return forecast_cost / forecast_weight


def standard_payment(weight: N, rate: N, coefficient: N | int = 1) -> N:
    """Payment standard = RW × rate × hospital coefficient.

    >>> standard_payment(1.5, 10_000)
    15000.0
    """
    return weight * rate * coefficient


def high_points_payment(standard0: N, cost: N, k_high: N, coefficient: N | int = 1) -> N:
    """Point-method high-multiple payment: std·coef + (cost/std − k)·std (§1.4).

    ``standard0`` is the uncoefficiented standard (base points × point value).

    >>> round(high_points_payment(15_000, 50_000, 3), 2)
    20000.0
    """
    return standard0 * coefficient + (cost / standard0 - k_high) * standard0


def dip_score(packet_mean: N, grand_mean: N, scale: N | int = 1000) -> N:
    """DIP score = m_i / M × scale (§2.2).

    >>> round(dip_score(9_600, 8_000), 6)
    1200.0
    """
    return packet_mean / grand_mean * scale


def settlement_point_value(fund: float, reimbursement_ratio: float, total_score: float) -> float:
    """Year-end point value = (fund / average reimbursement ratio) / Σ scores (§2.3).

    >>> round(settlement_point_value(700e6, 0.70, 125e6), 6)
    8.0
    """
    return fund / reimbursement_ratio / total_score


def dip_case_payment(score: N, point_value: N, coefficient: N | int = 1) -> N:
    """Case payable = score × point value × hospital coefficient (§2.3).

    >>> round(dip_case_payment(1_200, 8.00, 0.93), 2)
    8928.0
    """
    return score * point_value * coefficient


def dip_low_score(score: N, ratio: N) -> N:
    """Cost ultra-low case (ratio = cost / A below the low band): score × ratio (§2.5).

    >>> dip_low_score(1_200, 0.4)
    480.0
    """
    return score * ratio


def dip_high_score(score: N, ratio: N, high: N | int = 2) -> N:
    """Cost ultra-high case: score × [(ratio − high) + 1] (§2.5).

    >>> dip_high_score(1_200, 3.0)
    2400.0
    """
    return score * ((ratio - high) + 1)
