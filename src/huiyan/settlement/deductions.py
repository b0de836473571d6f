"""The violation amount deducted per case: each fee line counted once.

Several rules may flag the same fee lines of a case (bed days above the stay's length and a
bed item above its daily limit name the same bed lines; an exclusive nursing item and nursing
days above the stay, the same nursing line): each finding's ``vola_amt`` is that rule's amount
involved, and summing them would deduct those lines twice. Findings of a case that share a
line (``detail``) form one group, and a group deducts its largest amount: never more than once
per line; when the shared lines are only part of the findings, the rest is left to review.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pyarrow as pa

from huiyan.settlement.allocate import to_fen


def net_deductions(findings: pa.Table) -> dict[str, int]:
    """Fen to deduct per ``setl_id`` from violation findings (``setl_id, vola_amt, detail``)."""
    by_case: dict[str, list[tuple[int, frozenset[str]]]] = defaultdict(list)
    for r in findings.select(["setl_id", "vola_amt", "detail"]).to_pylist():
        units = frozenset(u for u in (r["detail"] or "").split("|") if u)
        by_case[r["setl_id"]].append((to_fen(Decimal(r["vola_amt"] or 0)), units))
    return {setl_id: _largest_per_group(items) for setl_id, items in by_case.items()}


def _largest_per_group(items: list[tuple[int, frozenset[str]]]) -> int:
    # Union-find over the findings of one case, joined by any shared fee line.
    parent = list(range(len(items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for i, (_amount, units) in enumerate(items):
        for u in units:
            if u in owner:
                parent[root(i)] = root(owner[u])
            else:
                owner[u] = i
    largest: dict[int, int] = {}
    for i, (amount, _units) in enumerate(items):
        g = root(i)
        largest[g] = max(largest.get(g, amount), amount)
    return sum(largest.values())
