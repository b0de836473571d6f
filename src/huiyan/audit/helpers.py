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


def exact(value: float | int | str | Decimal) -> ir.Scalar:
    """A yuan, quantity or ratio parameter as an exact decimal literal (0.005 stays 0.005, 0.4
    stays 0.4, not the nearest binary fraction), for comparisons with the audit's decimal
    amounts: ``medfee < avg_cost * exact(0.4)`` is decided in decimal, so a case exactly at the
    threshold is on the side the parameter says."""
    import ibis

    return ibis.literal(Decimal(str(value)), type="decimal(18, 6)")


def fraction(amount: ir.NumericValue, ratio: float | int | str) -> ir.DecimalValue:
    """``ratio`` (a rule parameter such as 0.4) of an amount, exactly: ``medfee < fraction(
    avg_cost, 0.4)`` holds for 400.19 and not for 400.20 when the average is 1000.50 (as
    doubles, 1000.5 × 0.4 is 400.20000000000005 and 400.20 passes).

    Both sides widened to DECIMAL(38, 6) first, as ``model.exact.product``: the local store
    types a product of narrower decimals in their width and overflows; the distributed engine
    keeps six decimals of the product, exact for ratios of up to four decimals.
    """
    return amount.cast("decimal(38, 6)") * exact(ratio).cast("decimal(38, 6)")


def below_share_of_mean(
    value: ir.NumericValue, total: ir.NumericValue, n: ir.IntegerValue, ratio: float | int | str
) -> ir.BooleanValue:
    """Whether ``value < ratio × total / n`` (an average given as the fraction ``total / n``,
    as the norms' ``los_total / los_n``), exactly: cross-multiplied, nothing divided."""
    return value.cast("decimal(38, 6)") * n < fraction(total, ratio)


def yuan_zero() -> ir.Scalar:
    """0 yuan as a money literal (``fill_null``/``greatest`` of money columns stay decimal)."""
    import ibis

    from huiyan.audit.netting import MONEY_TYPE

    return ibis.literal(Decimal(0), type=MONEY_TYPE)


def half_up_quotient(num: ir.IntegerValue, den: ir.IntegerValue) -> ir.IntegerValue:
    """``num / den`` of two integers, rounded half away from zero to an integer, exactly; null
    when ``den`` is 0 (``den`` positive otherwise).

    Neither engine divides integers or decimals exactly (the local one divides both as
    doubles, the distributed one decimals at a reduced scale), so: ``q = floor((2|a| + b) / 2b)``
    is the half-up quotient, and ``x − x mod y`` is an exact multiple of ``y``, whose division
    through a double is the exact integer while ``x`` stays below 2^53 (``|num|`` below 2^52:
    for a sum in fen, 4.5·10^13 yuan, far above a region's totals).
    """
    import ibis

    b = den.cast("int64").nullif(0)
    a = num.cast("int64")
    x = a.abs() * 2 + b
    y = b * 2
    q = ((x - x % y) / y).cast("int64")
    return ibis.ifelse(a < 0, -q, q)


def fen(value: ir.NumericValue) -> ir.IntegerValue:
    """An amount in yuan (at most two decimals, as MONEY) as integer fen."""
    return (value.cast("decimal(38, 2)") * 100).cast("int64")


def mean_yuan(total: ir.NumericValue, count: ir.IntegerValue) -> ir.DecimalValue:
    """The average ``total / count`` of a money column (``total`` its exact decimal sum, ``count``
    the number of values summed), rounded once, half away from zero, at the fen, as the
    canonical MONEY type; null when ``count`` is 0.

    At the fen because an average cost or payment is itself an amount: it is shown, compared
    with cases' costs and subtracted from them, and the bureau's published averages
    (``drg_weight.avg_cost``) are MONEY too, so derived and published norms are alike.
    """
    import ibis

    from huiyan.audit.netting import MONEY_TYPE

    q = half_up_quotient(fen(total), count)
    yuan = q.cast("decimal(38, 2)") * ibis.literal(Decimal("0.01"), type="decimal(3, 2)")
    return yuan.cast("decimal(38, 2)").cast(MONEY_TYPE)


def yuan_text(value: ir.NumericValue) -> ir.StringValue:
    """An amount as the case-level rules have always shown it: half-up at the fen, one
    trailing zero cut (600.00 -> 600.0, 93.60 -> 93.6, 93.65 -> 93.65).

    That was the text of the amounts when they were doubles (shortest form, at least one
    decimal); kept so that the texts of findings already under review do not change. Through
    a fixed-scale decimal, as ``num``: the same on every engine and never an exponent.
    """
    import ibis

    s = value.cast("decimal(38, 6)").round(2).cast("decimal(38, 2)").cast("string")
    return ibis.ifelse(s.endswith("0"), s.left(s.length() - 1), s)


def yuan(value: ir.NumericValue) -> ir.DecimalValue:
    """An amount as the audit's exact decimal (``spec.AMOUNT_DIGITS``), so amounts of different
    scales (line amounts, unit prices) combine in ``least``/``greatest`` and unions."""
    from huiyan.audit.spec import AMOUNT_DIGITS

    return value.cast("decimal({}, {})".format(*AMOUNT_DIGITS))
