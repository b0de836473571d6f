"""National knowledge points read from the kb's raw NHSA files (until ``huiyan.kb.restrictions``)."""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources


def _rows(name: str) -> list[dict[str, str]]:
    path = resources.files("huiyan.kb").joinpath(f"data/lk/nhsa-lk-2025/{name}")
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@cache
def dup_pairs() -> tuple[tuple[str, str, str], ...]:
    """(main code, sub code, window) of NHSA batch 7: the main item includes the sub item."""
    return tuple(
        (r["主项编码"], r["从项编码"], r["频度"])
        for r in _rows("b7_item_duplicate_charge_points.csv")
    )


def dup_subs(main: str) -> list[str]:
    """Sub items a main item includes within one day."""
    return [s for m, s, w in dup_pairs() if m == main and w in ("单日", "单次就诊")]


@cache
def frequency_limits() -> dict[str, int]:
    """Service-item code -> largest quantity per day (hours for hourly items), NHSA batch 8-1."""
    return {r["项目编码"]: int(r["限制数量"]) for r in _rows("b8_1_item_frequency_points.csv")}
