"""What a scheme holds and how two schemes differ, for ``huiyan kb info`` / ``huiyan kb diff``.

Counts follow REGIONAL.md: ADRGs are the distinct ADRG codes of the rules, DRGs the distinct
codes the rules can assign (bare-ADRG fallbacks included, ambiguity codes ``…QY`` excluded).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from huiyan.kb import scheme_delta
from huiyan.kb.schemes import TABLE_ROLES, Scheme

Describe = Callable[[dict[str, Any]], str]


@dataclass(frozen=True)
class Counts:
    mdcs: int
    adrgs: int
    drgs: int


def counts(logic: dict[str, Any]) -> Counts:
    """MDC, ADRG and DRG counts of a scheme's decision procedure."""
    adrgs, drgs = set(), set()
    for mdc in logic["mdcs"]:
        for step in mdc["steps"]:
            if step["type"] != "adrg":
                continue
            adrgs.add(step["code"])
            drgs.update(_assignable_step(step))
    return Counts(len(logic["mdcs"]), len(adrgs), len(drgs))


def _assignable_step(step: dict[str, Any]) -> set[str]:
    """Codes a step names as results: its DRG tests' codes (reachable or not, as REGIONAL.md
    counts them), and its fallback unless an ``always`` test makes it unreachable."""
    drgs = step.get("drgs") or []
    out = {d["code"] for d in drgs}
    if step.get("fallback") and not any(d["condition"] == {"always": True} for d in drgs):
        out.add(step["fallback"])
    return out


def _assignable(logic: dict[str, Any]) -> set[str]:
    out: set[str] = set()
    for mdc in logic["mdcs"]:
        for step in mdc["steps"]:
            out.update(_assignable_step(step))
    return out


def _adrgs(logic: dict[str, Any]) -> set[str]:
    return {s["code"] for m in logic["mdcs"] for s in m["steps"] if s["type"] == "adrg"}


@dataclass
class SchemeDiff:
    """What turns scheme ``a`` into scheme ``b``."""

    a: str
    b: str
    settings: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # key -> (a, b)
    adrgs_added: list[str] = field(default_factory=list)
    adrgs_removed: list[str] = field(default_factory=list)
    drgs_added: list[tuple[str, str]] = field(default_factory=list)  # (code, name)
    drgs_removed: list[tuple[str, str]] = field(default_factory=list)
    drgs_renamed: list[tuple[str, str, str]] = field(default_factory=list)  # code, a, b
    mdc_order: tuple[list[str], list[str]] | None = None
    # (MDC, step key, "added" | "removed" | "changed", the step's text; both when changed)
    steps: list[tuple[str, str, str, str]] = field(default_factory=list)
    lists: dict[str, list[str]] = field(default_factory=dict)  # new / removed / changed names
    tables: dict[str, tuple[int, int]] = field(default_factory=dict)  # file -> (+rows, -rows)

    @property
    def empty(self) -> bool:
        return not (
            self.settings
            or self.adrgs_added
            or self.adrgs_removed
            or self.drgs_added
            or self.drgs_removed
            or self.drgs_renamed
            or self.mdc_order
            or self.steps
            or any(self.lists.values())
            or self.tables
        )


def _compact(cond: dict[str, Any]) -> str:
    return json.dumps(cond, ensure_ascii=False, separators=(",", ":"))


def step_text(step: dict[str, Any], describe: Describe = _compact) -> str:
    """One line for a step: its condition and DRG tests (``describe`` words a condition)."""
    if step["type"] == "ambiguity":
        return f"歧义组 {step['code']}: {describe(step['condition'])}"
    drgs = "; ".join(f"{d['code']}: {describe(d['condition'])}" for d in step.get("drgs") or [])
    drgs = drgs or "无DRG细分"
    tail = f"; 否则 {step['fallback']}" if step.get("fallback") else ""
    return f"ADRG {step['code']}: {describe(step['condition'])} → {drgs}{tail}"


def diff(a: Scheme, b: Scheme, describe: Describe = _compact) -> SchemeDiff:
    """The differences between two schemes, read from their applied content; ``describe``
    words conditions (the grouper's Chinese wording when the caller has it)."""
    out = SchemeDiff(a.name, b.name)
    for key in ("input", "results", "retry_on_fail"):
        if a.logic.get(key) != b.logic.get(key):
            out.settings[key] = (a.logic.get(key), b.logic.get(key))
    out.adrgs_added = sorted(_adrgs(b.logic) - _adrgs(a.logic))
    out.adrgs_removed = sorted(_adrgs(a.logic) - _adrgs(b.logic))
    names_a, names_b = a.table("drgs"), b.table("drgs")
    da, db = _assignable(a.logic), _assignable(b.logic)
    out.drgs_added = [(c, names_b.get(c, "")) for c in sorted(db - da)]
    out.drgs_removed = [(c, names_a.get(c, "")) for c in sorted(da - db)]
    out.drgs_renamed = [
        (c, names_a[c], names_b[c])
        for c in sorted(da & db)
        if c in names_a and c in names_b and names_a[c] != names_b[c]
    ]
    delta = scheme_delta.diff_logic(a.logic, b.logic)
    if "mdc_order" in delta:
        out.mdc_order = ([m["code"] for m in a.logic["mdcs"]], delta["mdc_order"])
    old = {m["code"]: m for m in a.logic["mdcs"]}
    for code, change in delta.get("mdcs", {}).items():
        new = change.get("new") or next(m for m in b.logic["mdcs"] if m["code"] == code)
        before = {scheme_delta.step_key(s): s for s in old.get(code, {}).get("steps", [])}
        after = {scheme_delta.step_key(s): s for s in new["steps"]}
        for key, step in after.items():
            if key not in before:
                out.steps.append((code, key, "added", step_text(step, describe)))
            elif before[key] != step:
                was, now = step_text(before[key], describe), step_text(step, describe)
                out.steps.append((code, key, "changed", f"原: {was}\n新: {now}"))
        for key in before.keys() - after.keys():
            out.steps.append((code, key, "removed", step_text(before[key], describe)))
    lists = delta.get("lists", {})
    out.lists = {
        "new": sorted([*lists.get("new", {}), *lists.get("derived", {})]),
        "removed": list(lists.get("removed", [])),
        "changed": sorted(lists.get("changed", {})),
    }
    for role in TABLE_ROLES:
        rows = scheme_delta.diff_rows(a.rows(role), b.rows(role))
        if rows:
            plus = sum(1 for r in rows if r[0] == "+")
            out.tables[b.table_file(role)] = (plus, len(rows) - plus)
    return out
