"""Rule declarations: ``RuleSpec``, the ``@rule`` decorator and the registry by permanent id.

A rule is a small pure function ``f(t: RuleInputs, p: Params) -> ir.Table`` returning one row
per offending unit (a fee line, a diagnosis, a related settlement) with the columns of
``HIT_COLUMNS``; the engine sums the amounts per settlement and writes the ``finding`` rows.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from huiyan.model.enums import codes

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.audit.inputs import RuleInputs

# What a rule returns: one row per unit of evidence. ``amount`` is float yuan (rounded to the fen
# when findings are assembled), ``unit`` the feedetl_sn or related setl_id, ``text`` Chinese.
HIT_COLUMNS = ("setl_id", "unit", "amount", "text")

SEVERITY_VIOLATION = "1"
SEVERITY_SUSPICIOUS = "2"
STAGES = ("pre", "in", "post")
ITEM_STAGES = ("pre", "in", "post")
CASE_STAGES = ("post",)

AMOUNT_METHODS = {
    "line": "违规明细金额",
    "excess_qty": "超出数量×单价",
    "price_diff": "(收费单价−限价)×数量",
    "payment_diff": "支付标准差额",
    "case_cost": "全部住院费用",
    "fund_pay": "本次住院基金支付",
    "none": "编码问题, 不计金额",
}

Params = Mapping[str, Any]
RuleFn = Callable[["RuleInputs", Params], "ir.Table"]


@dataclass(frozen=True)
class RuleSpec:
    """A rule's metadata (the national rule attributes of domain-reference.md §4.2) and function."""

    id: str
    name: str
    vola_bhvr_type: str
    sev_deg: str
    stages: tuple[str, ...]
    amount: str
    vola_evid: str
    template: str
    fn: RuleFn = field(repr=False, compare=False)
    aliases: tuple[str, ...] = ()

    @property
    def doc(self) -> str:
        return inspect.getdoc(self.fn) or ""

    @property
    def theme(self) -> str:
        return self.fn.__module__.split(".")[-2]


_REGISTRY: dict[str, RuleSpec] = {}


def rule(
    *,
    id: str,  # noqa: A002 - the national attribute is called id
    name: str,
    vola_bhvr_type: str,
    sev_deg: str,
    stages: tuple[str, ...],
    amount: str,
    vola_evid: str,
    template: str,
    aliases: tuple[str, ...] = (),
) -> Callable[[RuleFn], RuleFn]:
    """Register the decorated function as rule ``id`` (ids are permanent: retire, never reuse)."""

    def register(fn: RuleFn) -> RuleFn:
        spec = RuleSpec(
            id=id,
            name=name,
            vola_bhvr_type=vola_bhvr_type,
            sev_deg=sev_deg,
            stages=stages,
            amount=amount,
            vola_evid=vola_evid,
            template=template,
            fn=fn,
            aliases=aliases,
        )
        _check(spec)
        if id in _REGISTRY and _REGISTRY[id].fn.__qualname__ != fn.__qualname__:
            raise ValueError(f"rule id {id} registered twice")
        _REGISTRY[id] = spec
        return fn

    return register


def _check(spec: RuleSpec) -> None:
    if spec.vola_bhvr_type not in codes("vola_bhvr_type"):
        raise ValueError(f"{spec.id}: unknown class {spec.vola_bhvr_type}")
    if spec.sev_deg not in (SEVERITY_VIOLATION, SEVERITY_SUSPICIOUS):
        raise ValueError(f"{spec.id}: sev_deg must be 1 or 2")
    if not spec.stages or set(spec.stages) - set(STAGES):
        raise ValueError(f"{spec.id}: stages must be among {STAGES}")
    if spec.amount not in AMOUNT_METHODS:
        raise ValueError(f"{spec.id}: unknown amount method {spec.amount}")


@cache
def _load_packs() -> None:
    # Packs import lazily, on first use of the registry, so importing huiyan.audit stays cheap.
    import huiyan.audit.rules as packs

    for pack in pkgutil.iter_modules(packs.__path__, packs.__name__ + "."):
        module = importlib.import_module(pack.name)
        for sub in pkgutil.iter_modules(module.__path__, module.__name__ + "."):
            importlib.import_module(sub.name)


def registry() -> dict[str, RuleSpec]:
    """Every registered rule by id, in id order."""
    _load_packs()
    return dict(sorted(_REGISTRY.items()))


def get(rule_id: str) -> RuleSpec:
    """The rule ``rule_id`` (or one of its old aliases)."""
    rules = registry()
    if rule_id in rules:
        return rules[rule_id]
    for spec in rules.values():
        if rule_id in spec.aliases:
            return spec
    raise KeyError(f"unknown rule {rule_id!r}")
