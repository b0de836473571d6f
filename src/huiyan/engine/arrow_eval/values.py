"""Element-wise operations (arithmetic, comparison, logic, strings, dates), by Ibis operation
name: each ``f(op, v, frame)`` where ``v`` evaluates an operand in ``frame``."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from huiyan.engine.arrow_eval.base import Unsupported, Value
from huiyan.engine.arrow_eval.casts import (
    _arrow_type,
    _cast_value,
    _coerce,
    _dec_of,
    _kind,
)
from huiyan.engine.arrow_eval.frames import _bool_true, _broadcast, _Frame


def _arith(name: str, a: Value, b: Value) -> Value:
    ka, kb = _kind(a.type), _kind(b.type)
    if "float" in (ka, kb) or name == "Divide":
        a, b = _cast_value(a, pa.float64()), _cast_value(b, pa.float64())
        if name == "Divide":
            b = pc.if_else(pc.equal(b, 0.0), pa.scalar(None, pa.float64()), b)
    elif "dec" in (ka, kb):
        a, b = _cast_value(a, _dec_of(a.type)), _cast_value(b, _dec_of(b.type))
        return _dec_arith(name, a, b)
    else:
        a, b = _cast_value(a, pa.int64()), _cast_value(b, pa.int64())
    if name == "Modulus":
        return _python2(lambda x, y: None if y == 0 else math.fmod(x, y), a, b, a.type)
    fn = {"Add": pc.add, "Subtract": pc.subtract, "Multiply": pc.multiply, "Divide": pc.divide}
    return fn[name](a, b)


def _dec_arith(name: str, a: Value, b: Value) -> Value:
    """Decimal ``+ − × %`` at the local store's result scale, exact (Python decimals where
    Arrow's result precision would exceed 38 digits)."""
    sa, sb = a.type.scale, b.type.scale
    scale = sa + sb if name == "Multiply" else max(sa, sb)
    out = pa.decimal128(38, scale)
    if name == "Modulus":
        return _python2(lambda x, y: None if y == 0 else x % y, a, b, out)
    fn = {"Add": pc.add, "Subtract": pc.subtract, "Multiply": pc.multiply}[name]
    try:
        # Arrow widens the result's precision (and refuses more than 38 digits) where the local
        # store caps it: operands narrowed first (a checked cast: a value that does not fit
        # raises and goes to the exact fallback) keep the result within 38 digits.
        if name == "Multiply":
            a, b = _narrow(a, 18 + sa), _narrow(b, 19 + sb)
        else:
            whole = 37 - scale
            a, b = _narrow(a, whole + sa), _narrow(b, whole + sb)
        return _cast_value(fn(a, b), out)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        import operator

        py = {"Add": operator.add, "Subtract": operator.sub, "Multiply": operator.mul}[name]
        return _python2(py, a, b, out)


def _narrow(v: Value, precision: int) -> Value:
    t = v.type
    if t.precision <= precision:
        return v
    return v.cast(pa.decimal128(max(precision, t.scale + 1), t.scale))


def _python2(fn: Callable[[Any, Any], Any], a: Value, b: Value, out: pa.DataType) -> Value:
    if isinstance(a, pa.Scalar) and isinstance(b, pa.Scalar):
        x, y = a.as_py(), b.as_py()
        return pa.scalar(None if x is None or y is None else fn(x, y), out)
    n = len(a) if not isinstance(a, pa.Scalar) else len(b)
    xs = [a.as_py()] * n if isinstance(a, pa.Scalar) else a.to_pylist()
    ys = [b.as_py()] * n if isinstance(b, pa.Scalar) else b.to_pylist()
    return pa.array(
        [None if x is None or y is None else fn(x, y) for x, y in zip(xs, ys, strict=True)], out
    )


def _python1(fn: Callable[[Any], Any], a: Value, out: pa.DataType) -> Value:
    if isinstance(a, pa.Scalar):
        return pa.scalar(None if not a.is_valid else fn(a.as_py()), out)
    return pa.array([None if x is None else fn(x) for x in a.to_pylist()], out)


def _compare(fn: Callable[[Any, Any], Any]) -> Callable[[Any, Any, _Frame], Value]:
    def run(op: Any, v: Callable[[Any], Value], frame: _Frame) -> Value:
        a, b = _coerce(v(op.left), v(op.right))
        try:
            return fn(a, b)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            import operator

            py = {
                pc.equal: operator.eq,
                pc.not_equal: operator.ne,
                pc.less: operator.lt,
                pc.less_equal: operator.le,
                pc.greater: operator.gt,
                pc.greater_equal: operator.ge,
            }[fn]
            return _python2(py, a, b, pa.bool_())

    return run


def _arith_op(name: str) -> Callable[[Any, Any, _Frame], Value]:
    return lambda op, v, frame: _arith(name, v(op.left), v(op.right))


def _typed(op: Any, value: Value) -> Value:
    return _cast_value(value, _arrow_type(op.dtype))


def _concat(op: Any, v: Callable[[Any], Value], frame: _Frame) -> Value:
    parts = [_cast_value(v(a), pa.string()) for a in op.arg]
    if all(isinstance(p, pa.Scalar) for p in parts):
        vals = [p.as_py() for p in parts]
        return pa.scalar(None if None in vals else "".join(vals), pa.string())
    return pc.binary_join_element_wise(*parts, "", null_handling="emit_null")


def _substring(op: Any, v: Callable[[Any], Value], frame: _Frame) -> Value:
    """Ibis ``substr(start, length)``: ``start`` 0-based (negative counts from the end), as the
    local store's ``SUBSTRING`` is called for it; a null operand gives null."""
    n = frame.n
    columns = [v(op.arg), v(op.start), v(op.length) if op.length is not None else None]
    texts, starts, lengths = (
        [None] * n if c is None else [c.as_py()] * n if isinstance(c, pa.Scalar) else c.to_pylist()
        for c in columns
    )
    has_length = op.length is not None
    out: list[str | None] = []
    for x, st, ln in zip(texts, starts, lengths, strict=True):
        if x is None or st is None or (has_length and ln is None):
            out.append(None)
            continue
        lo = st if st >= 0 else st + len(x)  # 0-based first character
        if not has_length:
            out.append(x[max(lo, 0) :])
        elif ln < 0:
            out.append(x[max(lo + ln, 0) : max(lo, 0)])
        else:
            out.append(x[max(lo, 0) : max(lo + ln, 0)])
    return pa.array(out, pa.string())


def _string_test(kind: str) -> Callable[[Any, Any, _Frame], Value]:
    def run(op: Any, v: Callable[[Any], Value], frame: _Frame) -> Value:
        hay = v(op.haystack if kind == "contains" else op.arg)
        needle = v(getattr(op, {"starts": "start", "ends": "end", "contains": "needle"}[kind]))
        py = {
            "starts": lambda x, y: x.startswith(y),
            "ends": lambda x, y: x.endswith(y),
            "contains": lambda x, y: y in x,
        }[kind]
        if isinstance(needle, pa.Scalar) and not isinstance(hay, pa.Scalar):
            if not needle.is_valid:
                return pa.nulls(len(hay), pa.bool_())
            kernel = {
                "starts": pc.starts_with,
                "ends": pc.ends_with,
                "contains": pc.match_substring,
            }[kind]
            return kernel(hay, pattern=needle.as_py())
        return _python2(py, hay, needle, pa.bool_())

    return run


def _in_values(op: Any, v: Callable[[Any], Value], frame: _Frame) -> Value:
    value = v(op.value)
    options = [v(o) for o in op.options]
    if all(isinstance(o, pa.Scalar) for o in options):
        wanted = [o.as_py() for o in options if o.is_valid]
        vt = value.type
        try:
            value_set = pa.array(wanted, vt) if wanted else pa.array([], vt)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            value_set = pa.array(wanted)
            value, value_set = _coerce(value, value_set)
        if isinstance(value, pa.Scalar):
            x = value.as_py()
            return pa.scalar(None if x is None else x in set(value_set.to_pylist()), pa.bool_())
        got = pc.is_in(value, value_set=value_set)
        return pc.if_else(pc.is_null(value), pa.scalar(None, pa.bool_()), got)
    out = None
    for o in options:
        a, b = _coerce(value, o)
        eq = pc.equal(a, b)
        out = eq if out is None else pc.or_kleene(out, eq)
    return out if out is not None else pa.scalar(False)


def _case(op: Any, v: Callable[[Any], Value], frame: _Frame, base: Any = None) -> Value:
    n = frame.n
    out_type = _arrow_type(op.dtype)
    result = _broadcast(
        _cast_value(v(op.default), out_type)
        if op.default is not None
        else pa.scalar(None, out_type),
        n,
        out_type,
    )
    for cond, res in reversed(list(zip(op.cases, op.results, strict=True))):
        if base is not None:
            a, b = _coerce(v(base), v(cond))
            test = pc.equal(a, b)
        else:
            test = v(cond)
        test = _bool_true(_broadcast(test, n, pa.bool_()))
        result = pc.if_else(test, _broadcast(_cast_value(v(res), out_type), n, out_type), result)
    return result


def _if_else(op: Any, v: Callable[[Any], Value], frame: _Frame) -> Value:
    out_type = _arrow_type(op.dtype)
    test = _bool_true(_broadcast(v(op.bool_expr), frame.n, pa.bool_()))
    yes = _broadcast(_cast_value(v(op.true_expr), out_type), frame.n, out_type)
    no = _broadcast(_cast_value(v(op.false_null_expr), out_type), frame.n, out_type)
    return pc.if_else(test, yes, no)


def _extreme(fn: Callable[..., Value]) -> Callable[[Any, Any, _Frame], Value]:
    def run(op: Any, v: Callable[[Any], Value], frame: _Frame) -> Value:
        args = [v(a) for a in op.arg]
        common = args[0]
        for a in args[1:]:
            common, _ = _coerce(common, a)
        t = common.type
        args = [_broadcast(_cast_value(_coerce(common, a)[1], t), frame.n, t) for a in args]
        return fn(*args, skip_nulls=True)

    return run


def _coalesce(op: Any, v: Callable[[Any], Value], frame: _Frame) -> Value:
    out_type = _arrow_type(op.dtype)
    args = [_broadcast(_cast_value(v(a), out_type), frame.n, out_type) for a in op.arg]
    return pc.coalesce(*args)


def _null_if(op: Any, v: Callable[[Any], Value], frame: _Frame) -> Value:
    a = v(op.arg)
    x, y = _coerce(a, v(op.null_if_expr))
    same = _bool_true(_broadcast(pc.equal(x, y), frame.n, pa.bool_()))
    a = _broadcast(a, frame.n)
    return pc.if_else(same, pa.scalar(None, a.type), a)


def _round(op: Any, v: Callable[[Any], Value], frame: _Frame) -> Value:
    a = v(op.arg)
    digits = 0 if op.digits is None else int(v(op.digits).as_py())
    if _kind(a.type) == "int":
        return _typed(op, a)
    mode = "half_towards_infinity"
    rounded = pc.round(_broadcast(a, frame.n), ndigits=digits, round_mode=mode)
    return _cast_value(rounded, _arrow_type(op.dtype))


def _date(op: Any, v: Callable[[Any], Value], frame: _Frame) -> Value:
    return _cast_value(v(op.arg), pa.date32())


def _epoch_seconds(op: Any, v: Callable[[Any], Value], frame: _Frame) -> Value:
    ts = _cast_value(v(op.arg), pa.timestamp("us"))
    micros = _broadcast(ts, frame.n).cast(pa.int64())
    return pc.divide(micros, 1_000_000).cast(pa.int64())


def _date_delta(op: Any, v: Callable[[Any], Value], frame: _Frame) -> Value:
    if op.part.value not in ("day", "D") if hasattr(op.part, "value") else op.part != "day":
        raise Unsupported(f"date delta in {op.part}")
    left = _broadcast(_cast_value(v(op.left), pa.date32()), frame.n).cast(pa.int32())
    right = _broadcast(_cast_value(v(op.right), pa.date32()), frame.n).cast(pa.int32())
    return pc.subtract(left.cast(pa.int64()), right.cast(pa.int64()))


def _date_from_ymd(op: Any, v: Callable[[Any], Value], frame: _Frame) -> Value:
    parts = [_broadcast(v(a), frame.n).to_pylist() for a in (op.year, op.month, op.day)]
    return pa.array(
        [
            None if None in (y, m, d) else date(int(y), int(m), int(d))
            for y, m, d in zip(*parts, strict=True)
        ],
        pa.date32(),
    )


def _unary(fn: Callable[[Value], Value]) -> Callable[[Any, Any, _Frame], Value]:
    return lambda op, v, frame: fn(v(op.arg))


def _logic(fn: Callable[[Value, Value], Value]) -> Callable[[Any, Any, _Frame], Value]:
    return lambda op, v, frame: fn(
        _cast_value(v(op.left), pa.bool_()), _cast_value(v(op.right), pa.bool_())
    )


def _cast(op: Any, v: Callable[[Any], Value], frame: _Frame) -> Value:
    return _cast_value(v(op.arg), _arrow_type(op.to))


def _negate(a: Value) -> Value:
    if _kind(a.type) == "dec":
        return _python1(lambda x: -x, a, a.type)
    return pc.negate(a)


def _abs(a: Value) -> Value:
    if _kind(a.type) == "dec":
        return _python1(abs, a, a.type)
    return pc.abs(a)


def _length(a: Value) -> Value:
    out = pc.utf8_length(a)
    return _cast_value(out, pa.int64())


_ELEMENTWISE: dict[str, Callable[[Any, Callable[[Any], Value], _Frame], Value]] = {
    "Cast": _cast,
    "Add": _arith_op("Add"),
    "Subtract": _arith_op("Subtract"),
    "Multiply": _arith_op("Multiply"),
    "Divide": _arith_op("Divide"),
    "Modulus": _arith_op("Modulus"),
    "Negate": _unary(_negate),
    "Abs": _unary(_abs),
    "Equals": _compare(pc.equal),
    "NotEquals": _compare(pc.not_equal),
    "Less": _compare(pc.less),
    "LessEqual": _compare(pc.less_equal),
    "Greater": _compare(pc.greater),
    "GreaterEqual": _compare(pc.greater_equal),
    "And": _logic(pc.and_kleene),
    "Or": _logic(pc.or_kleene),
    "Not": _unary(pc.invert),
    "IsNull": _unary(pc.is_null),
    "NotNull": _unary(pc.is_valid),
    "Coalesce": _coalesce,
    "NullIf": _null_if,
    "IfElse": _if_else,
    "SearchedCase": _case,
    "SimpleCase": lambda op, v, frame: _case(op, v, frame, base=op.base),
    "InValues": _in_values,
    "Greatest": _extreme(pc.max_element_wise),
    "Least": _extreme(pc.min_element_wise),
    "StringConcat": _concat,
    "StringLength": _unary(_length),
    "Substring": _substring,
    "StartsWith": _string_test("starts"),
    "EndsWith": _string_test("ends"),
    "StringContains": _string_test("contains"),
    "Round": _round,
    "Date": _date,
    "ExtractEpochSeconds": _epoch_seconds,
    "DateDelta": _date_delta,
    "DateFromYMD": _date_from_ymd,
}
