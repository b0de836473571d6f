"""National knowledge points the planted mechanisms use, read through ``huiyan.kb.restrictions``."""

from __future__ import annotations

from functools import cache

from huiyan.kb import restrictions


@cache
def dup_pairs() -> tuple[tuple[str, str, str], ...]:
    """(main code, sub code, window) of NHSA batch 7: the main item includes the sub item."""
    t = restrictions.load("dup_charge_pair").select(["main_code", "sub_code", "window"])
    return tuple(zip(*t.to_pydict().values(), strict=True))


def dup_subs(main: str) -> list[str]:
    """Sub items a main item includes within one day (or one visit)."""
    return [s for m, s, w in dup_pairs() if m == main and w in ("day", "visit", "stay")]
