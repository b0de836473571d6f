"""DRG grouping schemes as data: ``kb/data/drg/<name>/`` with a ``manifest.yaml`` each.

A folder holds ``scheme.json`` (the decision procedure in the condition vocabulary of
``chs-drg-1.1/README.md``) and the code tables as TSV. A regional scheme is a delta on the
national one: its manifest names ``inherits: <scheme>`` and the folder holds only the files
that differ; every other table is read from the inherited folder. TSV cells are verbatim
(never trimmed: one map target has a meaningful leading space, one MCC key a byte-order mark).

To add a scheme: create ``data/drg/<name>/`` with ``scheme.json``, the changed tables and a
``manifest.yaml`` (name, version, source, effective dates, ``inherits``, sha256 of each file).
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

import yaml

from huiyan.errors import ConfigurationError

TABLE_ROLES: tuple[str, ...] = (
    "diagnoses",
    "procedures",
    "diagnosis_map",
    "procedure_map",
    "cc",
    "mcc",
    "cc_exclusion",
    "or_procedures",
    "drgs",
)


def _root() -> Traversable:
    return resources.files("huiyan.kb").joinpath("data/drg")


def scheme_names() -> list[str]:
    """Names of the shipped schemes (folders with a manifest), sorted."""
    return sorted(
        p.name for p in _root().iterdir() if p.is_dir() and p.joinpath("manifest.yaml").is_file()
    )


@dataclass(frozen=True)
class Scheme:
    """One grouping scheme: manifest, decision procedure and a reader for its tables."""

    name: str
    manifest: dict[str, Any]
    logic: dict[str, Any] = field(repr=False)

    def folder_of(self, filename: str) -> Traversable:
        """The folder that holds ``filename``: this scheme's, else the nearest inherited one."""
        name: str | None = self.name
        while name is not None:
            folder = _root().joinpath(name)
            if folder.joinpath(filename).is_file():
                return folder
            name = _manifest(name).get("inherits")
        raise ConfigurationError(f"分组方案 {self.name} 缺少数据文件 {filename}")

    def rows(self, role: str) -> list[list[str]]:
        """Rows (without header) of the table of ``role``, cells verbatim."""
        filename = self.logic.get("tables", {}).get(role, f"{role}.tsv")
        return _read_tsv(self.name, filename)

    def table(self, role: str) -> dict[str, str]:
        """A two-column table as a dict (first column -> second; keys are unique per README)."""
        return {r[0]: r[1] for r in self.rows(role)}

    def code_list(self, name: str) -> list[str]:
        """The codes of list ``name``; ``or_procedures`` is the code column of its table."""
        if name == "or_procedures":
            return [r[0] for r in self.rows("or_procedures")]
        try:
            return list(self.logic["lists"][name])
        except KeyError:
            raise ConfigurationError(
                f"分组方案 {self.name} 引用了未定义的编码列表 {name}"
            ) from None

    @property
    def mapped_mode_supported(self) -> bool:
        return bool(self.logic.get("input", {}).get("mapped_mode_supported", True))


@cache
def _manifest(name: str) -> dict[str, Any]:
    path = _root().joinpath(name, "manifest.yaml")
    if not path.is_file():
        known = ", ".join(scheme_names())
        raise ConfigurationError(f"未知的分组方案 {name!r};可用方案:{known}")
    data = yaml.safe_load(path.read_text("utf-8"))
    if not isinstance(data, dict) or data.get("name") != name:
        raise ConfigurationError(f"分组方案清单 {name}/manifest.yaml 格式错误(name 应为 {name})")
    return data


@cache
def _read_tsv(scheme: str, filename: str) -> list[list[str]]:
    folder = load_scheme(scheme).folder_of(filename)
    with folder.joinpath(filename).open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader)
        return [row for row in reader if row]


@cache
def load_scheme(name: str) -> Scheme:
    """The scheme called ``name`` (raises ConfigurationError listing the known ones)."""
    manifest = _manifest(name)
    logic = json.loads(_root().joinpath(name, "scheme.json").read_text("utf-8"))
    return Scheme(name=name, manifest=manifest, logic=logic)


def verify(name: str) -> list[str]:
    """Files of scheme ``name`` whose sha256 differs from its manifest (empty when intact)."""
    manifest = _manifest(name)
    folder = _root().joinpath(name)
    bad = []
    for filename, digest in (manifest.get("files") or {}).items():
        path = folder.joinpath(filename)
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            bad.append(filename)
    return bad


# The complication states a DRG of an ADRG step can be selected by: with an MCC, with a CC
# (and no MCC), with neither. The grouper takes the first DRG of the step whose condition
# holds, so what a DRG stands for is the states it takes that no DRG before it took.
_STATES = {"mcc": (True, False), "cc": (False, True), "none": (False, False)}


def _holds(cond: dict[str, Any], has_mcc: bool, has_cc: bool) -> bool | None:
    """Whether ``cond`` holds in a complication state; None when it looks at anything else
    (age, procedures...), so the split cannot be read off the scheme."""
    if not isinstance(cond, dict) or len(cond) != 1:
        return None
    key, arg = next(iter(cond.items()))
    # The grouper reads these atoms as flags whatever their argument (grouping.conditions).
    flags = {"always": True, "never": False, "has_mcc": has_mcc, "has_cc": has_cc}
    if key in flags:
        return flags[key]
    if key == "not":
        inner = _holds(arg, has_mcc, has_cc)
        return None if inner is None else not inner
    if key in ("all", "any") and isinstance(arg, list):
        parts = [_holds(c, has_mcc, has_cc) for c in arg]
        if None in parts:
            return None
        return all(parts) if key == "all" else any(parts)
    return None


def _split_kinds(drgs: list[dict[str, Any]]) -> dict[str, str | None]:
    """Per DRG of a step: ``mcc``, ``cc``, ``none`` (no complication needed) or None."""
    kinds: dict[str, str | None] = {}
    taken: set[str] = set()
    readable = True
    for d in drgs:
        result = {s: _holds(d["condition"], *flags) for s, flags in _STATES.items()}
        readable = readable and None not in result.values()
        holds = {s for s, held in result.items() if held}
        if not readable:  # nor can the DRGs after it be read: which states reach them is unknown
            kinds[d["code"]] = None
            continue
        own = holds - taken
        taken |= holds
        kinds[d["code"]] = (
            "none" if "none" in own else "cc" if "cc" in own else "mcc" if own else None
        )
    return kinds


@cache
def complication_splits(name: str) -> list[tuple[str, str, str | None, str | None]]:
    """Per DRG selected by complications: ``(drg, split, cc_sibling, none_sibling)``.

    ``split`` is ``mcc`` (with an MCC) or ``cc`` (with a CC, or an MCC where the step has no
    MCC DRG); the siblings are the lighter DRGs of the same ADRG step (null when absent), which
    is what a case would group into without the complication. The conditions are read by what
    they select, so a regional scheme may write them in any form of the condition vocabulary;
    a DRG whose condition also looks at other facts (age, procedures) is left out.
    """
    rows: list[tuple[str, str, str | None, str | None]] = []
    for mdc in load_scheme(name).logic.get("mdcs", []):
        for step in mdc.get("steps", []):
            kinds = _split_kinds(step.get("drgs") or [])
            lighter = {k: c for c, k in reversed(kinds.items())}  # the first DRG of each kind
            for code, kind in kinds.items():
                if kind in ("mcc", "cc"):
                    cc = lighter.get("cc") if kind == "mcc" else None
                    rows.append((code, kind, cc, lighter.get("none")))
    return rows
