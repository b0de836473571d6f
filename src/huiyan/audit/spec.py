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

from huiyan.errors import ConfigurationError
from huiyan.model.enums import codes

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.audit.inputs import RuleInputs

# What a rule returns: one row per unit of evidence. ``amount`` is float yuan (rounded to the fen
# when findings are assembled), ``unit`` the feedetl_sn or related setl_id, ``text`` Chinese.
HIT_COLUMNS = ("setl_id", "unit", "amount", "text")
AUDIT_YAML = "kb/data/config/audit.yaml"

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
# A declared parameter's kind: a YAML scalar or list. ``float`` accepts an integer too.
ParamKind = type[int] | type[float] | type[str] | type[bool] | type[list]
_KIND_NAMES = {
    int: "整数 int",
    float: "数值 number",
    str: "文本 str",
    bool: "布尔 bool",
    list: "列表 list",
}


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
    params: Mapping[str, ParamKind] = field(default_factory=dict)

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
    params: Mapping[str, ParamKind] | None = None,
) -> Callable[[RuleFn], RuleFn]:
    """Register the decorated function as rule ``id`` (ids are permanent: retire, never reuse).

    ``params`` declares every parameter the rule reads, by name and kind; the rule's entry in
    ``kb/data/config/audit.yaml`` must give exactly these (checked here, at registration, so a
    parameter added to one and not the other fails on import, naming the rule).
    """

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
            params=dict(params or {}),
        )
        _check(spec)
        _check_shipped_params(spec)
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


def check_params(spec: RuleSpec, given: Mapping[str, Any], where: str) -> None:
    """``given`` (a rule's ``params`` in a configuration) has exactly the declared parameters,
    each of its declared kind; otherwise a ``ConfigurationError`` naming ``where`` and the rule."""
    problems = []
    unknown = sorted(set(given) - set(spec.params))
    if unknown:
        known = ", ".join(sorted(spec.params)) or "无 none"
        problems.append(f"未知参数 unknown parameter {', '.join(unknown)} (可用 known: {known})")
    missing = sorted(set(spec.params) - set(given))
    if missing:
        problems.append(f"缺少参数 missing parameter {', '.join(missing)}")
    for name, kind in spec.params.items():
        if name in given and not _is_kind(given[name], kind):
            problems.append(f"参数 {name} 应为 {_KIND_NAMES[kind]}, 实为 {given[name]!r}")
    if problems:
        raise ConfigurationError(f"{where}: 规则 rule {spec.id}: " + "; ".join(problems))


def _is_kind(value: Any, kind: ParamKind) -> bool:
    if isinstance(value, bool):
        return kind is bool
    if kind is float:
        return isinstance(value, int | float)
    return isinstance(value, kind)


@cache
def _shipped_rules() -> dict[str, Any]:
    from huiyan.kb.config import defaults

    return defaults("audit").get("rules") or {}


def _check_shipped_params(spec: RuleSpec) -> None:
    entry = _shipped_rules().get(spec.id)
    if entry is None:
        raise ConfigurationError(f"{AUDIT_YAML}: 规则 rule {spec.id} 缺少配置 has no entry")
    check_params(spec, entry.get("params") or {}, f"{AUDIT_YAML} rules.{spec.id}.params")


@dataclass(frozen=True)
class Preset:
    """The attributes a family of rules shares (class, severity, stages, amount, basis...):
    ``@SPLIT(id=..., name=..., params=...)`` registers one of the family, ``SPLIT.but(...)``
    is a narrower family."""

    attrs: Mapping[str, Any]

    def __call__(self, **attrs: Any) -> Callable[[RuleFn], RuleFn]:
        return rule(**{**self.attrs, **attrs})

    def but(self, **attrs: Any) -> Preset:
        return Preset({**self.attrs, **attrs})


def preset(**attrs: Any) -> Preset:
    """A family of rules sharing ``attrs`` (any keyword of ``rule``)."""
    unknown = set(attrs) - set(inspect.signature(rule).parameters)
    if unknown:
        raise TypeError(f"preset: unknown rule attributes {sorted(unknown)}")
    return Preset(attrs)


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
