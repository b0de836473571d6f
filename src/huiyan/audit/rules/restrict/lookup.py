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
    c = with_case(lines, t.case, *case_columns)
    return c.join(r, c.code == r.r_code)
