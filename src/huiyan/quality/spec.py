"""Check declarations: ``data/checks.yaml`` read into ``CheckSpec`` objects and validated."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

from huiyan.errors import ConfigurationError
from huiyan.model import TABLES

SEVERITIES = ("error", "warning")
CATEGORIES = ("completeness", "validity", "logic", "consistency")
KINDS = ("required", "codes", "dictionary", "name_match", "pattern", "range", "logic")
INPUT_TABLES = (
    "setl_list",
    "diseinfo",
    "oprninfo",
    "icuinfo",
    "feedetail",
    "medrcd",
    "medins",
    "drg_result",
    "case_scope",
)


@dataclass(frozen=True)
class CheckSpec:
    """One QC check: what it tests, how bad a failure is, the message and the policy basis.

    ``kind`` selects the expression builder: the generic kinds (``required``, ``codes``,
    ``dictionary``, ``name_match``, ``pattern``, ``range``) read ``table``/``field`` and
    ``params``; ``logic`` names a function registered in :mod:`huiyan.quality.logic`.
    ``message`` may contain ``{value}`` and ``{other}`` (e.g. the front-page value) and any
    parameter as ``{name}``, so that it states the threshold applied (``{max_los_days}``).
    """

    id: str
    name: str
    category: str
    severity: str
    kind: str
    table: str
    fields: tuple[str, ...]
    message: str
    basis: str
    params: dict[str, Any] = field(default_factory=dict)
    source: str = ""

    @property
    def field(self) -> str:
        return self.fields[0]


def _spec(raw: dict[str, Any], where: str) -> CheckSpec:
    try:
        fields = raw["field"]
        spec = CheckSpec(
            id=str(raw["id"]),
            name=str(raw["name"]),
            category=str(raw["category"]),
            severity=str(raw["severity"]),
            kind=str(raw["kind"]),
            table=str(raw.get("table", "setl_list")),
            fields=tuple(fields) if isinstance(fields, list) else (str(fields),),
            message=str(raw["message"]),
            basis=str(raw["basis"]),
            params=dict(raw.get("params") or {}),
            source=str(raw.get("source", "")),
        )
    except KeyError as exc:
        raise ConfigurationError(f"{where}: missing key {exc.args[0]!r}") from None
    problems = []
    if spec.severity not in SEVERITIES:
        problems.append(f"severity {spec.severity!r} not in {SEVERITIES}")
    if spec.category not in CATEGORIES:
        problems.append(f"category {spec.category!r} not in {CATEGORIES}")
    if spec.kind not in KINDS:
        problems.append(f"kind {spec.kind!r} not in {KINDS}")
    placeholders = set(re.findall(r"\{(\w+)\}", spec.message))
    unknown_names = sorted(placeholders - {"value", "other"} - set(spec.params) - _shared_params())
    if unknown_names:
        names = ", ".join(f"{{{n}}}" for n in unknown_names)
        problems.append(f"message placeholders {names} are neither value/other nor parameters")
    if spec.table not in INPUT_TABLES:
        problems.append(f"table {spec.table!r} not in {INPUT_TABLES}")
    else:
        unknown = [f for f in spec.fields if f not in TABLES[spec.table]]
        if unknown:
            problems.append(f"fields {unknown} are not columns of {spec.table}")
    if problems:
        raise ConfigurationError(f"{where} ({spec.id}): " + "; ".join(problems))
    return spec


@cache
def _shared_params() -> frozenset[str]:
    """The section-wide QC parameters (``kb/data/config/qc.yaml``), which every check sees."""
    from huiyan.kb.config import defaults

    return frozenset(k for k in defaults("qc") if k != "checks")


def parse(items: list[dict[str, Any]], source: str) -> tuple[CheckSpec, ...]:
    """Validate raw declarations; ids must be unique."""
    specs = tuple(_spec(raw, f"{source} item {i + 1}") for i, raw in enumerate(items))
    seen: set[str] = set()
    for s in specs:
        if s.id in seen:
            raise ConfigurationError(f"{source}: duplicate check id {s.id}")
        seen.add(s.id)
    return specs


@cache
def checks() -> tuple[CheckSpec, ...]:
    """Every shipped check, in declaration order."""
    text = resources.files("huiyan.quality").joinpath("data/checks.yaml").read_text("utf-8")
    return parse(yaml.safe_load(text)["checks"], "quality/data/checks.yaml")


def by_id() -> dict[str, CheckSpec]:
    return {c.id: c for c in checks()}
