"""The generic check kinds: one Ibis expression built from a declaration's table/field/params.

Each builder returns ``setl_id, field, value`` rows for the records that fail. A new generic
kind is a function here plus its name in ``spec.KINDS``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import ibis

from huiyan.quality.inputs import QcInputs
from huiyan.quality.reference import code_set
from huiyan.quality.spec import CheckSpec

if TYPE_CHECKING:
    import ibis.expr.types as ir

# Sets up to this size are inlined as IN lists; larger ones (ICD dictionaries) are joined.
_INLINE_MAX = 400


def blank(col: ir.Value) -> ir.BooleanValue:
    """Null, or an empty/whitespace-only string."""
    if col.type().is_string():
        return col.isnull() | (col.strip() == "")
    return col.isnull()


def as_text(col: ir.Value) -> ir.StringValue:
    return col.cast("string")


def _condition(t: ir.Table, when: dict | None) -> ir.BooleanValue:
    """``when: {field: F, in: [...]}`` / ``{field: F, present: true}`` / ``{field: F, absent:
    true}`` / ``{field: F, lt: N}``."""
    if not when:
        return ibis.literal(True)
    col = t[when["field"]]
    if "in" in when:
        return col.isin([str(v) for v in when["in"]])
    if "lt" in when:
        return col < when["lt"]
    if when.get("present"):
        return ~blank(col)
    if when.get("absent"):
        return blank(col)
    raise ValueError(f"unsupported when: {when}")


def _rows(t: ir.Table, spec: CheckSpec, failing: ir.BooleanValue, value: ir.Value) -> ir.Table:
    return t.filter(failing).select(
        setl_id=t.setl_id, field=ibis.literal(spec.field), value=as_text(value)
    )


def required(q: QcInputs, spec: CheckSpec) -> ir.Table:
    t = q.tables[spec.table]
    col = t[spec.field]
    return _rows(t, spec, blank(col) & _condition(t, spec.params.get("when")), col)


def codes(q: QcInputs, spec: CheckSpec) -> ir.Table:
    """Value (when filled) is one of the codes of ``params.codes`` (enum, code table, dict)."""
    t = q.tables[spec.table]
    col = t[spec.field]
    name = spec.params.get("codes") or spec.field
    valid = code_set(name)
    if len(valid) <= _INLINE_MAX:
        return _rows(t, spec, ~blank(col) & ~col.isin(sorted(valid)), col)
    ref = q.refs[name]
    filled = t.filter(~blank(col))
    missing = filled.anti_join(ref, filled[spec.field] == ref.code)
    return missing.select(
        setl_id=missing.setl_id, field=ibis.literal(spec.field), value=as_text(missing[spec.field])
    )


def dictionary(q: QcInputs, spec: CheckSpec) -> ir.Table:
    return codes(q, spec)


def name_match(q: QcInputs, spec: CheckSpec) -> ir.Table:
    """A code found in the dictionary whose name differs from the dictionary name."""
    t = q.tables[spec.table]
    code, name = t[spec.fields[0]], t[spec.fields[1]]
    ref = q.refs[spec.params["codes"]]
    j = t.filter(~blank(name)).join(ref, code == ref.code)
    return j.filter(j[spec.fields[1]].strip() != j.name).select(
        setl_id=j.setl_id,
        field=ibis.literal(spec.fields[1]),
        value=j[spec.fields[1]],
        other=j.name,
    )


def pattern(q: QcInputs, spec: CheckSpec) -> ir.Table:
    t = q.tables[spec.table]
    col = as_text(t[spec.field])
    ok = col.re_search(spec.params["regex"])
    return _rows(t, spec, ~blank(t[spec.field]) & ~ok & _condition(t, spec.params.get("when")), col)


def range_(q: QcInputs, spec: CheckSpec) -> ir.Table:
    t = q.tables[spec.table]
    col = t[spec.field]
    bad = ibis.literal(False)
    if "min" in spec.params:
        bad = bad | (col < spec.params["min"])
    if "max" in spec.params:
        bad = bad | (col > spec.params["max"])
    return _rows(t, spec, col.notnull() & bad, col)


BUILDERS: dict[str, Callable[[QcInputs, CheckSpec], ir.Table]] = {
    "required": required,
    "codes": codes,
    "dictionary": dictionary,
    "name_match": name_match,
    "pattern": pattern,
    "range": range_,
}
