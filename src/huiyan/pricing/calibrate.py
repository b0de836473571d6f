"""Calibration arithmetic (测算): complete years, year weighting, shrinkage, severity order, levels.

Pure functions over exact decimal sums (one ``Cell`` per group × year × level), so every figure
is reproducible to the last digit and each formula is tested on hand-computed fixtures. The
table-shaped work (trimming, summing) happens on the engine in ``standards.py``; the small
per-group arithmetic happens here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from huiyan.model.exact import q6


@dataclass(frozen=True)
class Cell:
    """Trimmed cases of one group in one discharge year at one institution level."""

    group: str
    year: int
    level: str
    n: int
    cost: Decimal  # exact sum of costs
    cost2: Decimal = Decimal(0)  # exact sum of squared costs (for the CV)


def complete_years(
    months: Mapping[int, Mapping[int, int]], *, min_month_share: float, min_year_share: float
) -> list[int]:
    """Years whose discharges cover enough months and enough cases to calibrate on.

    ``months[year][month]`` = discharges. A year is complete when it has discharges in at least
    ``min_month_share`` of its 12 months and at least ``min_year_share`` of the largest year's
    cases (a year of 466 discharges in January–February is not a year).

    >>> complete_years({2024: {m: 900 for m in range(1, 13)}, 2025: {1: 400, 2: 66}},
    ...                min_month_share=1.0, min_year_share=0.5)
    [2024]
    """
    totals = {y: sum(m.values()) for y, m in months.items()}
    if not totals:
        return []
    largest = max(totals.values())
    out = []
    for y, m in sorted(months.items()):
        covered = sum(1 for v in m.values() if v > 0) / 12
        if covered + 1e-9 >= min_month_share and totals[y] >= min_year_share * largest:
            out.append(y)
    return out


def weighted_mean(
    per_year: Mapping[int, tuple[int, Decimal]], wy: Mapping[int, Decimal]
) -> Decimal | None:
    """Σ_y w_y · mean_y / Σ_y w_y over the window years the group has cases in (§2.2).

    >>> weighted_mean({2023: (1, Decimal(8000)), 2024: (2, Decimal(18000)),
    ...                2025: (4, Decimal(40000))}, {2023: Decimal(1), 2024: Decimal(2),
    ...                2025: Decimal(7)})
    Decimal('9600')
    """
    num = Decimal(0)
    den = Decimal(0)
    for y, (n, s) in per_year.items():
        w = wy.get(y, Decimal(0))
        if n > 0 and w > 0:
            num += w * s / n
            den += w
    return num / den if den > 0 else None


def shrink(raw: Decimal | None, n: int, prior: Decimal, min_cases: int) -> Decimal:
    """Credibility blend toward ``prior`` for a group with fewer than ``min_cases`` cases.

    z = n / min_cases (capped at 1); weight = z·raw + (1 − z)·prior.

    >>> shrink(Decimal("2.0"), 4, Decimal("1.0"), 10)
    Decimal('1.400000')
    >>> shrink(Decimal("2.0"), 12, Decimal("1.0"), 10), shrink(None, 0, Decimal("0.8"), 10)
    (Decimal('2.000000'), Decimal('0.800000'))
    """
    if raw is None or n <= 0:
        return q6(prior)
    if n >= min_cases:
        return q6(raw)
    z = Decimal(n) / Decimal(min_cases)
    return q6(z * raw + (1 - z) * prior)


def monotone(values: Sequence[Decimal], weights: Sequence[Decimal]) -> list[Decimal]:
    """Pool adjacent violators: the closest non-increasing sequence (weighted least squares).

    ``values`` run from the most severe group (MCC) to the least (none); a more severe group
    never weighs less than a less severe one after this.

    >>> monotone([Decimal(1), Decimal(2), Decimal("0.5")], [Decimal(1), Decimal(1), Decimal(1)])
    [Decimal('1.500000'), Decimal('1.500000'), Decimal('0.500000')]
    """
    blocks: list[list[Decimal]] = []  # [weighted sum, weight, count]
    for v, w in zip(values, weights, strict=True):
        w = w if w > 0 else Decimal(1)
        blocks.append([v * w, w, Decimal(1)])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] < blocks[-1][0] / blocks[-1][1]:
            s, ww, c = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += ww
            blocks[-1][2] += c
    out: list[Decimal] = []
    for s, w, c in blocks:
        out += [q6(s / w)] * int(c)
    return out


# CHS-DRG's last character: 1 with MCC, 3 with CC, 5 without, 7 with CC or MCC, 9 not split.
SEVERITY_RANK = {"1": 3, "3": 2, "7": 2, "5": 1}


def severity_chains(groups: Iterable[str]) -> dict[str, list[str]]:
    """Per ADRG (the first three characters), its split groups from most to least severe.

    >>> severity_chains(["ES11", "ES15", "ES13", "GE19", "FR11"])
    {'ES1': ['ES11', 'ES13', 'ES15']}
    """
    by_adrg: dict[str, list[str]] = defaultdict(list)
    for g in groups:
        if len(g) == 4 and g[-1] in SEVERITY_RANK:
            by_adrg[g[:3]].append(g)
    return {
        a: sorted(gs, key=lambda g: (-SEVERITY_RANK[g[-1]], g))
        for a, gs in sorted(by_adrg.items())
        if len(gs) > 1
    }


def level_coefficients(
    cells: Iterable[Cell], group_mean: Mapping[str, Decimal], places: str = "0.0001"
) -> dict[str, Decimal]:
    """Cost ratio by level (指数法): Σ cost at the level / Σ n·(group mean) for the same groups.

    Standardised by case mix, so a level that treats heavier groups is not paid more for it.

    >>> cells = [Cell("A", 2025, "3", 2, Decimal(2400)), Cell("A", 2025, "1", 2, Decimal(1600)),
    ...          Cell("B", 2025, "3", 1, Decimal(5500))]
    >>> level_coefficients(cells, {"A": Decimal(1000), "B": Decimal(5000)})
    {'1': Decimal('0.8000'), '3': Decimal('1.1286')}
    """
    cost: dict[str, Decimal] = defaultdict(Decimal)
    expected: dict[str, Decimal] = defaultdict(Decimal)
    for c in cells:
        m = group_mean.get(c.group)
        if m is None or not c.level:
            continue
        cost[c.level] += c.cost
        expected[c.level] += c.n * m
    return {
        lv: (cost[lv] / expected[lv]).quantize(Decimal(places))
        for lv in sorted(cost)
        if expected[lv] > 0
    }
