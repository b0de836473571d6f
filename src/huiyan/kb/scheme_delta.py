"""A regional DRG scheme as the rows it changes relative to the scheme it inherits.

A delta folder ``kb/data/drg/<name>/`` holds, beside ``manifest.yaml`` (``inherits: <parent>``):

- ``scheme.delta.json``: what changes in the parent's ``scheme.json``::

      {"format": 1,
       "set": {"<top-level key>": <value>},        # replaced whole (input, results, notes...)
       "unset": ["<top-level key>"],
       "lists": {"new": {"<name>": [codes]},       # added, or replaced when reordered
                 "removed": ["<name>"],
                 "changed": {"<name>": {"added": [codes], "removed": [codes]}}},
       "mdc_order": ["MDCA", ...],                 # only when the MDC sequence differs
       "mdcs": {"<MDC>": {"new": <whole MDC>} |
                         {"set": {"<key>": <value>}, "step_order": [keys],
                          "steps": {"<step key>": <whole step>}}}}

  A step's key is its ``rule`` (ADRG steps) or its ``code`` (ambiguity steps); ``step_order``
  appears only when the sequence of steps differs, ``steps`` holds only new or changed ones.
  A changed list keeps the parent's order: removed codes dropped, added codes appended.
- ``<table>.delta.tsv``: header ``op`` + the table's header; rows ``-`` (a parent row removed)
  and ``+`` (a row added, appended after the kept parent rows). Cells are verbatim.
- any table absent from the folder is the parent's, unchanged; a full ``<table>.tsv`` in the
  folder replaces the parent's.

Row order within a table carries no meaning (keys are unique: README of chs-drg-1.1), so the
content hash of a table (``table_digest``) is over its sorted rows; the build checks that the
applied table also reads to the same key -> value mapping as the verified one.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections import Counter
from typing import Any

FORMAT = 1
Rows = list[list[str]]


def step_key(step: dict[str, Any]) -> str:
    """The identity of a step within its MDC: ADRG rule id, or ambiguity code."""
    return str(step.get("rule") or step["code"])


# ----------------------------------------------------------------------------- scheme.json
def apply_logic(parent: dict[str, Any], delta: dict[str, Any]) -> dict[str, Any]:
    """The child's ``scheme.json`` content from the parent's and the delta."""
    out = {k: v for k, v in parent.items() if k not in ("mdcs", "lists")}
    for key in delta.get("unset", []):
        out.pop(key, None)
    out.update(copy.deepcopy(delta.get("set", {})))
    out["lists"] = _apply_lists(parent["lists"], delta.get("lists", {}))
    out["mdcs"] = _apply_mdcs(parent["mdcs"], delta)
    # keep the key order of a full scheme.json (mdcs, site_maps, lists, notes...) for readers
    order = [k for k in parent if k in out] + [k for k in out if k not in parent]
    return {k: out[k] for k in order}


def _apply_lists(parent: dict[str, list[str]], d: dict[str, Any]) -> dict[str, list[str]]:
    removed_lists = set(d.get("removed", []))
    changed = d.get("changed", {})
    out: dict[str, list[str]] = {}
    for name, codes in parent.items():
        if name in removed_lists:
            continue
        out[name] = _edit(codes, changed.get(name, {}))
    for name, spec in d.get("derived", {}).items():
        out[name] = _edit(parent[spec["from"]], spec)
    for name, codes in d.get("new", {}).items():
        out[name] = list(codes)
    return out


def _edit(codes: list[str], change: dict[str, list[str]]) -> list[str]:
    """Codes minus ``removed``, then ``added`` (a code list is a set: order has no meaning)."""
    drop = set(change.get("removed", []))
    return [c for c in codes if c not in drop] + list(change.get("added", []))


def _apply_mdcs(parent: list[dict[str, Any]], delta: dict[str, Any]) -> list[dict[str, Any]]:
    by_code = {m["code"]: m for m in parent}
    order = delta.get("mdc_order") or [m["code"] for m in parent]
    changes = delta.get("mdcs", {})
    out = []
    for code in order:
        ch = changes.get(code)
        if ch is None:
            out.append(copy.deepcopy(by_code[code]))
        elif "new" in ch:
            out.append(copy.deepcopy(ch["new"]))
        else:
            base = by_code[code]
            mdc = {k: copy.deepcopy(v) for k, v in base.items() if k != "steps"}
            mdc.update(copy.deepcopy(ch.get("set", {})))
            steps = {step_key(s): s for s in base["steps"]}
            steps.update(ch.get("steps", {}))
            keys = ch.get("step_order") or [step_key(s) for s in base["steps"]]
            mdc["steps"] = [copy.deepcopy(steps[k]) for k in keys]
            out.append({k: mdc[k] for k in [*base, *(k for k in mdc if k not in base)]})
    return out


def diff_logic(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """The delta turning ``parent`` into ``child`` (``apply_logic`` inverts it exactly)."""
    delta: dict[str, Any] = {"format": FORMAT}
    rest = set(parent) | set(child)
    rest -= {"mdcs", "lists"}
    pc, cc = canonical(parent), canonical(child)
    setk = {k: child[k] for k in sorted(rest) if k in child and pc.get(k) != cc[k]}
    unset = sorted(k for k in rest if k in parent and k not in child)
    if setk:
        delta["set"] = setk
    if unset:
        delta["unset"] = unset
    lists = _diff_lists(parent["lists"], child["lists"])
    if lists:
        delta["lists"] = lists
    p_order = [m["code"] for m in parent["mdcs"]]
    c_order = [m["code"] for m in child["mdcs"]]
    if p_order != c_order:
        delta["mdc_order"] = c_order
    by_code = {m["code"]: m for m in parent["mdcs"]}
    mdcs: dict[str, Any] = {}
    for m in child["mdcs"]:
        base = by_code.get(m["code"])
        if base is None:
            mdcs[m["code"]] = {"new": m}
        elif base != m:
            mdcs[m["code"]] = _diff_mdc(base, m)
    if mdcs:
        delta["mdcs"] = mdcs
    if canonical(apply_logic(parent, delta)) != canonical(child):
        raise ValueError("delta does not reproduce the scheme")
    return delta


def _diff_lists(parent: dict[str, list[str]], child: dict[str, list[str]]) -> dict[str, Any]:
    new: dict[str, list[str]] = {}
    derived: dict[str, dict[str, Any]] = {}
    changed: dict[str, dict[str, list[str]]] = {}
    parent_sets = {k: set(v) for k, v in parent.items()}
    for name, codes in child.items():
        if name in parent:
            if set(codes) != parent_sets[name]:
                changed[name] = _change(parent_sets[name], codes)
            continue
        # a list new by name is often an old one with a few codes more or less
        cs = set(codes)
        best = min(parent_sets, key=lambda k: len(cs ^ parent_sets[k]), default=None)
        if best is not None and len(cs ^ parent_sets[best]) < len(cs):
            derived[name] = {"from": best, **_change(parent_sets[best], codes)}
        else:
            new[name] = codes
    removed = sorted(set(parent) - set(child))
    out: dict[str, Any] = {}
    for key, value in (("new", new), ("derived", derived), ("removed", removed)):
        if value:
            out[key] = value
    if changed:
        out["changed"] = changed
    return out


def _change(old: set[str], codes: list[str]) -> dict[str, list[str]]:
    new = set(codes)
    ch = {"added": sorted(new - old), "removed": sorted(old - new)}
    return {k: v for k, v in ch.items() if v}


def _diff_mdc(base: dict[str, Any], mdc: dict[str, Any]) -> dict[str, Any]:
    keys = [step_key(s) for s in mdc["steps"]]
    if len(set(keys)) != len(keys) or len({step_key(s) for s in base["steps"]}) != len(
        base["steps"]
    ):
        return {"new": mdc}
    out: dict[str, Any] = {}
    setk = {k: v for k, v in mdc.items() if k != "steps" and base.get(k) != v}
    if setk:
        out["set"] = setk
    if set(base) - set(mdc):  # a key the child drops: store the whole MDC
        return {"new": mdc}
    if keys != [step_key(s) for s in base["steps"]]:
        out["step_order"] = keys
    old = {step_key(s): s for s in base["steps"]}
    steps = {step_key(s): s for s in mdc["steps"] if old.get(step_key(s)) != s}
    if steps:
        out["steps"] = steps
    return out


# ----------------------------------------------------------------------------- tables
def apply_rows(parent: Rows, delta: Rows) -> Rows:
    """Parent rows minus the ``-`` rows, then the ``+`` rows (``delta`` = rows with op first)."""
    drop = Counter(tuple(r[1:]) for r in delta if r[0] == "-")
    out = []
    for row in parent:
        key = tuple(row)
        if drop[key] > 0:
            drop[key] -= 1
            continue
        out.append(row)
    leftover = [list(k) for k, n in drop.items() if n > 0]
    if leftover:
        raise ValueError(f"delta removes rows the parent does not have: {leftover[:3]}")
    out.extend(list(r[1:]) for r in delta if r[0] == "+")
    return out


def diff_rows(parent: Rows, child: Rows) -> Rows:
    """Delta rows (op first) turning ``parent`` into ``child`` up to row order."""
    p, c = Counter(map(tuple, parent)), Counter(map(tuple, child))
    gone, extra = p - c, c - p
    out: Rows = []
    for row in parent:  # in the parent's order, so the file reads like a diff
        if gone[tuple(row)] > 0:
            gone[tuple(row)] -= 1
            out.append(["-", *row])
    for row in child:
        if extra[tuple(row)] > 0:
            extra[tuple(row)] -= 1
            out.append(["+", *row])
    return out


def same_mapping(a: Rows, b: Rows) -> bool:
    """Whether two tables read to the same key -> rest mapping (last duplicate key wins)."""
    return {r[0]: tuple(r[1:]) for r in a} == {r[0]: tuple(r[1:]) for r in b}


def table_digest(header: list[str], rows: Rows) -> str:
    """Content hash of a table: header and sorted rows (row order carries no meaning)."""
    h = hashlib.sha256("\t".join(header).encode())
    for row in sorted(rows):
        h.update(b"\n" + "\t".join(row).encode())
    return h.hexdigest()


def canonical(logic: dict[str, Any]) -> dict[str, Any]:
    """A scheme.json document with its code lists and site maps as sorted sets: they are only
    ever tested for membership, so their order and repeats carry no meaning."""
    out = dict(logic)
    out["lists"] = {k: sorted(set(v)) for k, v in logic.get("lists", {}).items()}
    out["site_maps"] = {
        name: {site: sorted(set(codes)) for site, codes in sites.items()}
        for name, sites in logic.get("site_maps", {}).items()
    }
    return out


def logic_digest(logic: dict[str, Any]) -> str:
    """Content hash of a scheme.json document (``canonical``; key order ignored)."""
    text = json.dumps(canonical(logic), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def dumps(delta: dict[str, Any]) -> str:
    """The delta as JSON with one line per list, MDC key and step (readable, diffable)."""

    def compact(v: Any) -> str:
        return json.dumps(v, ensure_ascii=False, separators=(",", ":"))

    def block(d: dict[str, Any], depth: int, inline_at: int) -> str:
        pad = " " * depth
        if depth >= inline_at or not isinstance(d, dict) or not d:
            return compact(d)
        items = [f"{pad} {compact(k)}: {block(v, depth + 1, inline_at)}" for k, v in d.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"

    parts = []
    for key, value in delta.items():
        depth = {"lists": 2, "mdcs": 3}.get(key, 1)
        parts.append(
            f" {compact(key)}: {block(value, 1, depth + 1) if depth > 1 else compact(value)}"
        )
    return "{\n" + ",\n".join(parts) + "\n}\n"
