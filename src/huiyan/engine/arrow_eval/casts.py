"""Value kinds, the common type of two operands, and casts as the local store casts."""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from huiyan.engine.arrow_eval.base import Value


@lru_cache(maxsize=1024)
def _arrow_type(dtype: Any) -> pa.DataType:
    """The Arrow type of an Ibis data type (converting a decimal type costs ~10 µs, and a
    batch converts a few hundred: kept)."""
    return dtype.to_pyarrow()


def _kind(t: pa.DataType) -> str:
    if pa.types.is_decimal(t):
        return "dec"
    if pa.types.is_floating(t):
        return "float"
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "str"
    if pa.types.is_null(t):
        return "null"
    return "other"


def _dec_of(t: pa.DataType) -> pa.DataType:
    """The decimal an integer is compared or combined as (the local store's rule)."""
    if pa.types.is_decimal(t):
        return t
    width = {8: 3, 16: 5, 32: 10, 64: 19}.get(t.bit_width, 19)
    return pa.decimal128(width, 0)


def _coerce(a: Value, b: Value) -> tuple[Value, Value]:
    """Both operands in a common type (numbers widened as the local store widens them)."""
    ta, tb = a.type, b.type
    if ta == tb:
        return a, b
    ka, kb = _kind(ta), _kind(tb)
    if ka == "null":
        return _cast_value(a, tb), b
    if kb == "null":
        return a, _cast_value(b, ta)
    if {ka, kb} <= {"int", "float", "dec"}:
        if "float" in (ka, kb):
            return _cast_value(a, pa.float64()), _cast_value(b, pa.float64())
        if "dec" in (ka, kb):
            da, db = _dec_of(ta), _dec_of(tb)
            scale = max(da.scale, db.scale)
            width = min(38, max(da.precision - da.scale, db.precision - db.scale) + scale)
            common = pa.decimal128(width, scale)
            return _cast_value(a, common), _cast_value(b, common)
        return _cast_value(a, pa.int64()), _cast_value(b, pa.int64())
    if ka == kb == "str":
        return _cast_value(a, pa.string()), _cast_value(b, pa.string())
    if pa.types.is_temporal(ta) and pa.types.is_temporal(tb):
        if pa.types.is_timestamp(ta) or pa.types.is_timestamp(tb):
            return _cast_value(a, pa.timestamp("us")), _cast_value(b, pa.timestamp("us"))
        return a, b
    if ka == "str":
        return _cast_value(a, tb), b
    if kb == "str":
        return a, _cast_value(b, ta)
    return a, b


def _cast_value(v: Value, t: pa.DataType) -> Value:
    if v.type == t:
        return v
    if isinstance(v, pa.Scalar):
        # Literals are the same objects on every run (computed once): so are their casts.
        key = (id(v), t)
        kept = _SCALAR_CASTS.get(key)
        if kept is None or kept[0] is not v:
            if len(_SCALAR_CASTS) > 10_000:
                _SCALAR_CASTS.clear()
            kept = _SCALAR_CASTS[key] = (v, _cast_arrow(pa.array([v.as_py()], v.type), t)[0])
        return kept[1]
    return _cast_arrow(v, t)


_SCALAR_CASTS: dict[tuple[int, pa.DataType], tuple[pa.Scalar, pa.Scalar]] = {}


def _cast_arrow(arr: pa.Array, t: pa.DataType) -> pa.Array:  # noqa: C901 - one table of casts
    """``CAST(arr AS t)`` as the local store casts."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    src = arr.type
    if src == t:
        return arr
    if pa.types.is_null(src):
        return pa.nulls(len(arr), t)
    ks, kt = _kind(src), _kind(t)
    if kt == "str":
        return _to_text(arr)
    if kt == "dec":
        if ks == "dec":
            if t.scale < src.scale:
                arr = pc.round(arr, ndigits=t.scale, round_mode="half_towards_infinity")
            return arr.cast(t)
        if ks == "float":
            return pa.array(
                [
                    None if x is None else _dec_round(Decimal(repr(x)), t.scale)
                    for x in arr.to_pylist()
                ],
                t,
            )
        if ks == "str":
            return pa.array(
                [
                    None if x is None else _dec_round(Decimal(x.strip()), t.scale)
                    for x in arr.to_pylist()
                ],
                t,
            )
        return arr.cast(_dec_of(src)).cast(t)
    if kt == "int":
        if ks == "dec":
            arr = pc.round(arr, ndigits=0, round_mode="half_towards_infinity")
            return arr.cast(t)
        if ks == "float":
            return pc.round(arr, ndigits=0, round_mode="half_to_even").cast(t)
        if ks == "str":
            return pc.utf8_trim_whitespace(arr).cast(t)
        return arr.cast(t)
    if pa.types.is_date(t) and pa.types.is_timestamp(src):
        return pc.cast(pc.floor_temporal(arr, unit="day"), t, safe=False)
    if pa.types.is_timestamp(t) and pa.types.is_timestamp(src):
        return pc.cast(arr, t, safe=False)
    return arr.cast(t)


def _dec_round(x: Decimal, scale: int) -> Decimal:
    return x.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)


def _to_text(arr: pa.Array) -> pa.Array:
    """Values as the local store writes them as text."""
    t = arr.type
    k = _kind(t)
    if k in ("str", "int", "dec"):
        return arr.cast(pa.string())
    if k == "bool":
        return pc.if_else(arr, "true", "false")
    if k == "float":
        return pa.array([None if x is None else _float_text(x) for x in arr.to_pylist()])
    if pa.types.is_date(t):
        return arr.cast(pa.string())
    if pa.types.is_timestamp(t):
        return pa.array([None if x is None else _ts_text(x) for x in arr.to_pylist()])
    return arr.cast(pa.string())


def _float_text(x: float) -> str:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return repr(x)


def _ts_text(x: datetime) -> str:
    s = x.strftime("%Y-%m-%d %H:%M:%S")
    if x.microsecond:
        s += f".{x.microsecond:06d}".rstrip("0")
    return s


def _literal(op: Any) -> pa.Scalar:
    t = _arrow_type(op.dtype)
    value = op.value
    if value is None:
        return pa.scalar(None, t)
    if op.dtype.is_decimal() and not isinstance(value, Decimal):
        value = Decimal(str(value))
    if op.dtype.is_timestamp() and isinstance(value, str):
        value = datetime.fromisoformat(value)
    if op.dtype.is_date() and isinstance(value, str):
        value = date.fromisoformat(value)
    return pa.scalar(value, t)
