"""Domain definitions every step shares, written once: which diagnosis is the principal one,
what the discharge-way codes mean, the national scheme and the history year weighting.

The codes are those of ``data/enums.yaml``; the meanings here are checked against it on import,
so a renumbered code table fails at once instead of silently changing a rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

import ibis

from huiyan.model.enums import codes

if TYPE_CHECKING:
    import ibis.expr.types as ir

# The national CHS-DRG scheme every regional scheme derives from (``kb/data/drg/<name>``).
NATIONAL_SCHEME = "chs-drg-1.1"

# Discharge ways (离院方式, ``setl_list.dscg_way``).
DSCG_ORDERED = "1"  # 医嘱离院: the stay ended as planned
DSCG_TRANSFERS = ("2", "3")  # 医嘱转院 / 转社区卫生服务机构: care goes on elsewhere
DSCG_AGAINST_ADVICE = "4"  # 非医嘱离院
DSCG_DEATH = "5"
# Stays cut short: by death, a transfer or a discharge against advice.
DSCG_CUT_SHORT = (*DSCG_TRANSFERS, DSCG_AGAINST_ADVICE, DSCG_DEATH)

# The audit stage whose findings count for money (事后审核 of uploaded settlements): settlement,
# reports, monitoring and the review workflow read only these. Pre/in-event findings (事前/事中,
# the real-time reminders, or ``audit --stage pre|in`` over a year) are kept beside them in the
# same ``finding`` table, as the national 3101 result carries its stage.
SETTLED_STAGE = "post"

# ``diseinfo.maindiag_flag`` of the diagnosis the list declares principal.
PRINCIPAL_FLAG = "1"


def _check_codes() -> None:
    known = codes("dscg_way")
    named = {DSCG_ORDERED, *DSCG_CUT_SHORT}
    if named - known:
        raise ValueError(f"model.domain: dscg_way codes {sorted(named - known)} not in enums.yaml")


_check_codes()


def settled_findings(finding: ir.Table) -> ir.Table:
    """The findings that count for money: those of the ``SETTLED_STAGE``."""
    return finding.filter(finding.stage == SETTLED_STAGE)


def flagged_principal(diseinfo: ir.Table) -> ir.Table:
    """The diagnosis rows flagged principal (``maindiag_flag`` = 1): what the list declares,
    none or several per settlement when it is wrong (QC judges exactly that)."""
    return diseinfo.filter(diseinfo.maindiag_flag == PRINCIPAL_FLAG)


def principal_order(diseinfo: ir.Table) -> list[ir.Value]:
    """Sort keys putting a settlement's principal diagnosis first: the flagged row, then the
    lowest ``diag_srt_no`` (lists from systems that fill only the order number)."""
    flagged_first = ibis.ifelse(diseinfo.maindiag_flag == PRINCIPAL_FLAG, 0, 1)
    return [flagged_first, diseinfo.diag_srt_no]


def _ranked(diseinfo: ir.Table) -> ir.Table:
    rank = ibis.row_number().over(
        group_by=diseinfo.setl_id, order_by=[*principal_order(diseinfo), diseinfo.diag_code]
    )
    return diseinfo.mutate(_principal_rank=rank)


def principal_diagnoses(diseinfo: ir.Table) -> ir.Table:
    """One row per settlement with diagnoses: its principal diagnosis (``principal_order``)."""
    ranked = _ranked(diseinfo)
    return ranked.filter(ranked._principal_rank == 0).drop("_principal_rank")


def secondary_diagnoses(diseinfo: ir.Table) -> ir.Table:
    """Every other diagnosis row of each settlement (``principal_diagnoses`` excluded)."""
    ranked = _ranked(diseinfo)
    return ranked.filter(ranked._principal_rank != 0).drop("_principal_rank")


def year_weights(years: Sequence[int], weights: Sequence[float]) -> dict[int, Decimal]:
    """The history weight of each year: ``weights`` run oldest → newest over the newest
    ``len(weights)`` of ``years`` (1:2:7 in the DIP specification); with fewer years the newest
    weights are used (two years weigh 2:7).

    >>> year_weights([2022, 2023, 2024, 2025], [1, 2, 7])
    {2023: Decimal('1'), 2024: Decimal('2'), 2025: Decimal('7')}
    >>> year_weights([2025], [1, 2, 7])
    {2025: Decimal('7')}
    """
    chosen = sorted(years)[-len(weights) :]
    ws = list(weights)[-len(chosen) :] if chosen else []
    return {y: Decimal(str(w)) for y, w in zip(chosen, ws, strict=True)}


def year_weight(year: ir.IntegerValue, latest: int, weights: Sequence[float]) -> ir.FloatingValue:
    """``year_weights`` as a column: the window ends at ``latest``; older years weigh 0."""
    window = range(latest - len(weights) + 1, latest + 1)
    by_year = year_weights(window, weights)
    return ibis.cases(*[(year == y, float(w)) for y, w in by_year.items()], else_=0.0)


def year_weighted_means(
    t: ir.Table, keys: Sequence[str], latest: int, weights: Sequence[float], value: str = "cost"
) -> ir.Table:
    """Per ``keys``: Σ_y w_y·mean_y / Σ_y w_y over the window years present (column ``wmean``)."""
    per_year = t.group_by([*keys, "year"]).aggregate(_m=t[value].mean())
    per_year = per_year.mutate(_w=year_weight(per_year.year, latest, weights))
    per_year = per_year.filter(per_year._w > 0)
    return per_year.group_by(list(keys)).aggregate(
        wmean=(per_year._m * per_year._w).sum() / per_year._w.sum()
    )
