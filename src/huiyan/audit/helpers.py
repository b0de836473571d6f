"""Small Ibis building blocks the rule packs share (hit rows, texts, restriction lookups)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.audit.inputs import RuleInputs

DAY_SECONDS = 86400


def shared(fn: Callable[[RuleInputs], ir.Table]) -> Callable[[RuleInputs], ir.Table]:
    """Decorator for a derived input that several rules read: computed once per run (kept on
    the backend like ``lines``) instead of once per rule that uses it."""

    @functools.wraps(fn)
    def once(t: RuleInputs) -> ir.Table:
        return t.shared(f"{fn.__module__}.{fn.__qualname__}", lambda: fn(t))

    return once


def item_label(lines: ir.Table) -> ir.StringValue:
    """``名称(编码)`` of a line's item."""
    return lines.item_name.fill_null("") + "(" + lines.code + ")"


def day_text(ts: ir.TimestampValue) -> ir.StringValue:
    """The calendar day of a timestamp as ``YYYY-MM-DD``."""
    return ts.date().cast("string")


def line_hits(lines: ir.Table, amount: ir.Value, text: ir.Value) -> ir.Table:
    """Hit rows naming each offending line by its ``feedetl_sn``."""
    return lines.select(setl_id=lines.setl_id, unit=lines.feedetl_sn, amount=amount, text=text)


def num(value: ir.Value) -> ir.StringValue:
    """A quantity or amount rounded half-up to 2 decimals, as text without trailing zeros
    (2.0 -> 2, 93.60 -> 93.6, 93.10 -> 93.1, 1.005 -> 1.01), the same on every engine.

    Finding texts are compared across engines, so nothing engine-specific may remain: the value
    goes through a fixed-scale decimal (doubles to string give ``1.0E7`` on the distributed
    engine; a double rounded directly rounds 1.005 down on one engine, up on the other), and
    the zeros are cut by length, not by a regex replacement (``\\1`` is a back-reference on the
    local engine but a literal ``1`` in the distributed engine's Java regex, which turned 93.60
    into 931).
    """
    import ibis

    s = value.cast("decimal(38, 6)").round(2).cast("decimal(38, 2)").cast("string")
    return ibis.cases(
        (s.endswith(".00"), s.left(s.length() - 3)),
        (s.endswith("0"), s.left(s.length() - 1)),
        else_=s,
    )


def restriction(t: RuleInputs, kind: str) -> ir.Table:
    """Rows of the effective ``item_restriction`` of one kind."""
    r = t.kb["item_restriction"]
    return r.filter(r.kind == kind)


def with_case(lines: ir.Table, case: ir.Table, *columns: str) -> ir.Table:
    """``lines`` with case columns (prefixed ``c_``) attached by ``setl_id``."""
    c = case.select(c_setl_id=case.setl_id, **{f"c_{col}": case[col] for col in columns})
    j = lines.join(c, lines.setl_id == c.c_setl_id)
    return j.drop("c_setl_id")


def of_list_type(lines: ir.Table, drugs: bool) -> ir.Table:
    """Drug lines (``list_type`` 1) or the others (items, materials, beds)."""
    return lines.filter(lines.list_type == "1") if drugs else lines.filter(lines.list_type != "1")


def diag_matches(t: RuleInputs, wanted: ir.Table, prefix_col: str) -> ir.Table:
    """(setl_id, key columns of ``wanted``) where some diagnosis of the case starts with the prefix.

    ``wanted`` must have ``setl_id`` and ``prefix_col``; the result keeps ``wanted``'s columns.
    """
    d = t.diag.select(d_setl_id=t.diag.setl_id, d_code=t.diag.diag_code)
    j = wanted.join(d, (wanted.setl_id == d.d_setl_id) & d.d_code.startswith(wanted[prefix_col]))
    return j.select(*wanted.columns).distinct()


def longest_prefix_match(
    codes: ir.Table, code_col: str, knowledge: ir.Table, prefix_col: str
) -> ir.Table:
    """Rows of ``codes`` joined to the knowledge rows of their longest matching prefix.

    Same contract as ``huiyan.kb.knowledge.longest_prefix_match``. The prefix join cannot be
    a hash join, so it runs on the distinct codes (thousands) and the result is joined back to
    ``codes`` (millions) on equality. The prefix length and its window maximum are
    materialised as columns first, because the distributed engine cannot resolve a filter on a
    window over an expression of the joined tables.
    """
    import ibis

    keys = codes.select(_lpm_code=codes[code_col]).distinct()
    joined = keys.join(knowledge, keys._lpm_code.startswith(knowledge[prefix_col]))
    joined = joined.mutate(_plen=joined[prefix_col].length())
    w = ibis.window(group_by=joined._lpm_code)
    joined = joined.mutate(_pmax=joined._plen.max().over(w))
    best = joined.filter(joined._plen == joined._pmax).drop("_plen", "_pmax")
    return codes.join(best, codes[code_col] == best._lpm_code).drop("_lpm_code")


def exact(value: float | int | str) -> ir.Scalar:
    """A yuan or quantity parameter as an exact decimal literal (0.005 stays 0.005, not the
    nearest binary fraction), for comparisons with the audit's decimal amounts."""
    import ibis

    return ibis.literal(Decimal(str(value)), type="decimal(18, 6)")


def yuan(value: ir.NumericValue) -> ir.DecimalValue:
    """An amount as the audit's exact decimal (``spec.AMOUNT_DIGITS``), so amounts of different
    scales (line amounts, unit prices) combine in ``least``/``greatest`` and unions."""
    from huiyan.audit.spec import AMOUNT_DIGITS

    return value.cast("decimal({}, {})".format(*AMOUNT_DIGITS))
