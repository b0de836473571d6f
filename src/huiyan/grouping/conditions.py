"""The condition vocabulary of scheme.json, interpreted once per atom for both paths.

Each atom has a batch form (numpy over a :class:`Frame`, one boolean per case) and a scalar
form (one :class:`CaseView`), side by side so they cannot drift apart; ``describe`` gives the
Chinese wording used in traces. Semantics: ``kb/data/drg/chs-drg-1.1/README.md``.

To add an atom: add a branch to ``evaluate_batch``, ``evaluate_one`` and ``describe`` and a
case to ``tests/grouping/test_conditions.py``; ``validate`` rejects schemes using unknown atoms.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from huiyan.errors import ConfigurationError
from huiyan.grouping.compiled import CompiledScheme
from huiyan.grouping.frame import NUMERIC_FIELDS, Frame

Condition = dict[str, Any]

RELATIONS: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}
_REL_ZH = {"eq": "=", "ne": "≠", "lt": "<", "le": "≤", "gt": ">", "ge": "≥"}
_FIELD_ZH = {
    "age": "年龄(岁)",
    "age_days": "年龄(天)",
    "birth_weight": "出生体重(g)",
    "los": "住院天数",
}
_LIST_ATOMS = (
    "principal_dx_in",
    "any_dx_in",
    "any_secondary_dx_in",
    "principal_proc_in",
    "any_proc_in",
    "any_secondary_proc_in",
)
_FLAG_ATOMS = (
    "always",
    "never",
    "has_mcc",
    "has_cc",
    "has_procedure",
    "has_secondary_dx",
    "has_secondary_proc",
)
# atom -> case field compared as text with a list of values (REGIONAL.md)
_TEXT_ATOMS = {"discharge_way_in": "discharge_way", "dept_in": "dept"}
_TEXT_ZH = {"discharge_way": "离院方式", "dept": "科室"}


def _numeric(key: str) -> tuple[str, str] | None:
    field, _, rel = key.rpartition("_")
    if field in NUMERIC_FIELDS and rel in RELATIONS:
        return field, rel
    return None


def _atom(cond: Condition) -> tuple[str, Any]:
    if not isinstance(cond, dict) or len(cond) != 1:
        raise ConfigurationError(f"分组条件必须是只有一个键的对象: {cond!r}")
    return next(iter(cond.items()))


def validate(cond: Condition, cs: CompiledScheme) -> None:
    """Raise ConfigurationError for an unknown atom or list name anywhere in ``cond``."""
    key, arg = _atom(cond)
    if key in ("all", "any"):
        for c in arg:
            validate(c, cs)
    elif key == "not":
        validate(arg, cs)
    elif key in _LIST_ATOMS:
        cs.code_list(arg)
    elif key == "multi_trauma":
        cs.sites(arg["sites"])
    elif key in _TEXT_ATOMS:
        if not isinstance(arg, list):
            raise ConfigurationError(f"分组方案 {cs.name} 的条件 {key} 需要取值列表: {arg!r}")
    elif key not in _FLAG_ATOMS and key != "gender" and _numeric(key) is None:
        raise ConfigurationError(f"分组方案 {cs.name} 使用了未知的条件 {key!r}")


# --------------------------------------------------------------------------- batch path
def _any_item(member: np.ndarray, items: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    out[owner[member[items]]] = True
    return out


def _any_secondary(
    member: np.ndarray, items: np.ndarray, off: np.ndarray, owner: np.ndarray
) -> np.ndarray:
    """Some item after the first (a secondary diagnosis / procedure) is in ``member``."""
    n = off.size - 1
    secondary = np.arange(items.size) > off[:-1][owner]
    out = np.zeros(n, dtype=bool)
    out[owner[member[items] & secondary]] = True
    return out


def evaluate_batch(cond: Condition, f: Frame) -> np.ndarray:
    """One boolean per case of ``f``."""
    key, arg = _atom(cond)
    cs, n = f.cs, f.n
    if key == "always":
        return np.ones(n, dtype=bool)
    if key == "never":
        return np.zeros(n, dtype=bool)
    if key == "all":
        out = np.ones(n, dtype=bool)
        for c in arg:
            out &= evaluate_batch(c, f)
        return out
    if key == "any":
        out = np.zeros(n, dtype=bool)
        for c in arg:
            out |= evaluate_batch(c, f)
        return out
    if key == "not":
        return ~evaluate_batch(arg, f)
    if key == "principal_dx_in":
        return cs.member(arg)[f.pdx]
    if key == "any_dx_in":
        return _any_item(cs.member(arg), f.dx, f.dx_owner, n)
    if key == "any_secondary_dx_in":
        return _any_secondary(cs.member(arg), f.dx, f.dx_off, f.dx_owner)
    if key == "any_secondary_proc_in":
        return _any_secondary(cs.member(arg), f.px, f.px_off, f.px_owner)
    if key in _TEXT_ATOMS:
        values = f.text.get(_TEXT_ATOMS[key])
        if values is None:
            return np.zeros(n, dtype=bool)
        return np.isin(values, [str(v) for v in arg])
    if key == "principal_proc_in":
        return cs.member(arg)[f.ppx]
    if key == "any_proc_in":
        return _any_item(cs.member(arg), f.px, f.px_owner, n)
    if key == "gender":
        return (f.gender_m if arg == "M" else f.gender_f).copy()
    if key == "has_mcc":
        return f.has_mcc.copy()
    if key == "has_cc":
        return f.has_cc.copy()
    if key == "has_procedure":
        return np.diff(f.px_off) > 0
    if key == "has_secondary_dx":
        return np.diff(f.dx_off) > 1
    if key == "has_secondary_proc":
        return np.diff(f.px_off) > 1
    if key == "multi_trauma":
        bits, _ = cs.sites(arg["sites"])
        item_bits = bits[f.dx]
        hit = item_bits != 0
        acc = np.zeros(n, dtype=np.int64)
        np.bitwise_or.at(acc, f.dx_owner[hit], item_bits[hit])
        return np.bitwise_count(acc) >= arg["min_sites"]
    numeric = _numeric(key)
    if numeric is not None:
        values = f.num[numeric[0]]
        with np.errstate(invalid="ignore"):
            return ~np.isnan(values) & RELATIONS[numeric[1]](values, arg)
    raise ConfigurationError(f"未知的分组条件 {key!r}")


# --------------------------------------------------------------------------- single-case path
@dataclass
class CaseView:
    """One case after mapping: what conditions look at."""

    dx: list[str]
    px: list[str]
    gender: str
    num: dict[str, float | None]
    has_mcc: bool
    has_cc: bool
    text: dict[str, str | None] | None = None


def evaluate_one(cond: Condition, c: CaseView, cs: CompiledScheme) -> bool:
    """The scalar twin of :func:`evaluate_batch`."""
    key, arg = _atom(cond)
    if key == "always":
        return True
    if key == "never":
        return False
    if key == "all":
        return all(evaluate_one(x, c, cs) for x in arg)
    if key == "any":
        return any(evaluate_one(x, c, cs) for x in arg)
    if key == "not":
        return not evaluate_one(arg, c, cs)
    if key == "principal_dx_in":
        return bool(c.dx) and c.dx[0] in cs.code_set(arg)
    if key == "any_dx_in":
        return not cs.code_set(arg).isdisjoint(c.dx)
    if key == "any_secondary_dx_in":
        return not cs.code_set(arg).isdisjoint(c.dx[1:])
    if key == "any_secondary_proc_in":
        return not cs.code_set(arg).isdisjoint(c.px[1:])
    if key in _TEXT_ATOMS:
        value = (c.text or {}).get(_TEXT_ATOMS[key])
        return value is not None and value in [str(v) for v in arg]
    if key == "principal_proc_in":
        return bool(c.px) and c.px[0] in cs.code_set(arg)
    if key == "any_proc_in":
        return not cs.code_set(arg).isdisjoint(c.px)
    if key == "gender":
        return c.gender == cs.scheme.logic["input"]["gender_codes"][arg]
    if key == "has_mcc":
        return c.has_mcc
    if key == "has_cc":
        return c.has_cc
    if key == "has_procedure":
        return bool(c.px)
    if key == "has_secondary_dx":
        return len(c.dx) > 1
    if key == "has_secondary_proc":
        return len(c.px) > 1
    if key == "multi_trauma":
        return len(trauma_sites(c.dx, arg["sites"], cs)) >= arg["min_sites"]
    numeric = _numeric(key)
    if numeric is not None:
        number = c.num.get(numeric[0])
        return number is not None and bool(RELATIONS[numeric[1]](number, arg))
    raise ConfigurationError(f"未知的分组条件 {key!r}")


def trauma_sites(dx: list[str], sites: str, cs: CompiledScheme) -> set[str]:
    """The body sites covered by the diagnoses (duplicates ignored)."""
    _, by_code = cs.sites(sites)
    return {s for code in dx for s in by_code.get(code, ())}


def describe(cond: Condition) -> str:
    """Chinese wording of a condition, for traces."""
    key, arg = _atom(cond)
    if key == "always":
        return "无条件"
    if key == "never":
        return "永不成立"
    if key in ("all", "any"):
        joiner = " 且 " if key == "all" else " 或 "
        return "(" + joiner.join(describe(c) for c in arg) + ")"
    if key == "not":
        return f"非{describe(arg)}"
    text = {
        "principal_dx_in": "主要诊断属于列表 {}",
        "any_dx_in": "任一诊断属于列表 {}",
        "any_secondary_dx_in": "任一次要诊断属于列表 {}",
        "any_secondary_proc_in": "任一次要手术操作属于列表 {}",
        "principal_proc_in": "主要手术操作属于列表 {}",
        "any_proc_in": "任一手术操作属于列表 {}",
    }.get(key)
    if text:
        return text.format("手术室手术(or_procedures)" if arg == "or_procedures" else arg)
    if key == "gender":
        return "性别为" + ("男" if arg == "M" else "女")
    if key == "has_mcc":
        return "伴严重并发症或合并症(MCC)"
    if key == "has_cc":
        return "伴并发症或合并症(CC)"
    if key == "has_procedure":
        return "有手术操作"
    if key == "has_secondary_dx":
        return "有次要诊断"
    if key == "has_secondary_proc":
        return "有两个及以上手术操作"
    if key in _TEXT_ATOMS:
        return f"{_TEXT_ZH[_TEXT_ATOMS[key]]}为 {'、'.join(map(str, arg))}"
    if key == "multi_trauma":
        return f"多发创伤:损伤部位数 ≥ {arg['min_sites']}"
    numeric = _numeric(key)
    if numeric is not None:
        return f"{_FIELD_ZH[numeric[0]]} {_REL_ZH[numeric[1]]} {arg}"
    return key
