"""Shared expression of the restrict pack: net lines of restricted items, with who and where."""

from __future__ import annotations

from typing import TYPE_CHECKING

from huiyan.audit.helpers import restriction, with_case

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.audit.inputs import RuleInputs


def restricted_lines(
    t: RuleInputs, kind: str, lines: ir.Table, case_columns: tuple[str, ...], **columns: str
) -> ir.Table:
    """``lines`` of items that carry a restriction of ``kind`` (``item_restriction``).

    ``columns`` names the restriction's columns to attach (``r_gend="lmt_gend"``); the case's
    ``case_columns`` are attached prefixed ``c_``. A line with several restriction rows of the
    kind appears once per distinct row.
    """
    r = restriction(t, kind).select(r_code="hilist_code", **columns).distinct()
    # The lines of restricted items are kept (computed on their own) before the case joins
    # them: left to reorder the three joins, the engine's planner once joined the cases to the
    # restrictions first on the rules' inequality (``c_gend != r_gend``: 100k cases x 500
    # codes in a nested loop, spilling) and SEX-001 took 118 s instead of 0.2 s at 100k
    # settlements. Kept, the few restricted lines meet the cases by ``setl_id`` alone.
    codes = r.select(k_code=r.r_code).distinct()
    mine = t.keep(lines.semi_join(codes, lines.code == codes.k_code))
    c = with_case(mine, t.case, *case_columns)
    return c.join(r, c.code == r.r_code)
