"""DRG grouping schemes as data: ``kb/data/drg/<name>/`` with a ``manifest.yaml`` each.

The national scheme (``chs-drg-1.1``) is a full folder: ``scheme.json`` (the decision procedure
in the condition vocabulary of ``chs-drg-1.1/README.md``) and the code tables as TSV. Every
other scheme is a delta on the scheme its manifest ``inherits``: ``scheme.delta.json`` and
``<table>.delta.tsv`` hold only the rows it adds, removes or changes (format:
``kb/scheme_delta.py``); a table with no file is the parent's. TSV cells are verbatim (never
trimmed: one map target has a meaningful leading space, one MCC key a byte-order mark).

To add a scheme: add it to ``kb/build/schemes.yaml`` and run
``python -m huiyan.kb.build.schemes NAME`` on its full reference folder.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

from huiyan.errors import ConfigurationError
from huiyan.kb import scheme_delta
from huiyan.kb.tablefiles import open_csv_text

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
LOGIC_FILE, LOGIC_DELTA = "scheme.json", "scheme.delta.json"


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

    def table_file(self, role: str) -> str:
        return str(self.logic.get("tables", {}).get(role, f"{role}.tsv"))

    def header(self, role: str) -> list[str]:
        return _read_table(self.name, self.table_file(role))[0]

    def rows(self, role: str) -> list[list[str]]:
        """Rows (without header) of the table of ``role``, cells verbatim, deltas applied."""
        return _read_table(self.name, self.table_file(role))[1]

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
    def parent(self) -> str | None:
        return self.manifest.get("inherits")

    @property
    def mapped_mode_supported(self) -> bool:
        return bool(self.logic.get("input", {}).get("mapped_mode_supported", True))


@cache
def _manifest(name: str) -> dict[str, Any]:
    path = _root().joinpath(name, "manifest.yaml")
    if not path.is_file():
        known = ", ".join(scheme_names())
        raise ConfigurationError(f"未知的分组方案 {name!r};可用方案:{known}")
    # the C loader: manifests list a digest per file and are read on every grouping start
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data = yaml.load(path.read_text("utf-8"), Loader=loader)  # noqa: S506 - a safe loader
    if not isinstance(data, dict) or data.get("name") != name:
        raise ConfigurationError(f"分组方案清单 {name}/manifest.yaml 格式错误(name 应为 {name})")
    return data


def manifest(name: str) -> dict[str, Any]:
    """The manifest of scheme ``name`` (region, year, effective dates, inherits, files)."""
    return _manifest(name)


def read_tsv_file(path: Path | Traversable) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of a TSV file, cells verbatim, blank lines skipped."""
    with open_csv_text(path) as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader)
        return header, [row for row in reader if row]


@cache
def _read_table(scheme: str, filename: str) -> tuple[list[str], list[list[str]]]:
    folder = _root().joinpath(scheme)
    if folder.joinpath(filename).is_file():
        return read_tsv_file(folder.joinpath(filename))
    parent = _manifest(scheme).get("inherits")
    if parent is None:
        raise ConfigurationError(f"分组方案 {scheme} 缺少数据文件 {filename}")
    header, rows = _read_table(parent, filename)
    delta_file = folder.joinpath(delta_name(filename))
    if not delta_file.is_file():
        return header, rows
    dheader, drows = read_tsv_file(delta_file)
    try:
        return dheader[1:], scheme_delta.apply_rows(rows, drows)
    except ValueError as exc:
        raise ConfigurationError(
            f"分组方案 {scheme} 的 {delta_file.name} 无法应用: {exc}"
        ) from None


def delta_name(filename: str) -> str:
    """``cc.tsv`` -> ``cc.delta.tsv``."""
    stem, _, ext = filename.rpartition(".")
    return f"{stem}.delta.{ext}"


@cache
def _logic(name: str) -> dict[str, Any]:
    folder = _root().joinpath(name)
    if folder.joinpath(LOGIC_FILE).is_file():
        return json.loads(folder.joinpath(LOGIC_FILE).read_text("utf-8"))
    parent = _manifest(name).get("inherits")
    if parent is None or not folder.joinpath(LOGIC_DELTA).is_file():
        raise ConfigurationError(f"分组方案 {name} 缺少 {LOGIC_FILE} 或 {LOGIC_DELTA}")
    delta = json.loads(folder.joinpath(LOGIC_DELTA).read_text("utf-8"))
    return scheme_delta.apply_logic(_logic(parent), delta)


@cache
def load_scheme(name: str) -> Scheme:
    """The scheme called ``name`` (raises ConfigurationError listing the known ones)."""
    return Scheme(name=name, manifest=_manifest(name), logic=_logic(name))


def chain(name: str) -> list[str]:
    """``name`` and the schemes it inherits from, nearest first."""
    out: list[str] = []
    current: str | None = name
    while current is not None:
        if current in out:
            raise ConfigurationError(f"分组方案继承关系成环: {' → '.join([*out, current])}")
        out.append(current)
        current = _manifest(current).get("inherits")
    return out


def content_key(name: str) -> str:
    """sha256 over the data files of ``name`` and everything it inherits (the cache key)."""
    h = hashlib.sha256()
    for scheme in chain(name):
        folder = _root().joinpath(scheme)
        for child in sorted(folder.iterdir(), key=lambda c: c.name):
            if child.is_file() and child.name.endswith((".json", ".tsv", ".yaml")):
                h.update(f"{scheme}/{child.name}\0".encode())
                h.update(child.read_bytes())
    return h.hexdigest()


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


def resolved_digests(name: str) -> dict[str, str]:
    """Content digests of the full scheme (deltas applied): scheme.json and every table."""
    s = load_scheme(name)
    out = {LOGIC_FILE: scheme_delta.logic_digest(s.logic)}
    for role in TABLE_ROLES:
        out[s.table_file(role)] = scheme_delta.table_digest(s.header(role), s.rows(role))
    return out


def verify_resolved(name: str) -> list[str]:
    """Files whose applied content differs from the digests the manifest records under
    ``resolved`` (the full tables the scheme was verified with); empty when it reproduces them."""
    expected = _manifest(name).get("resolved") or {}
    if not expected:
        return []
    got = resolved_digests(name)
    return sorted(f for f, digest in expected.items() if got.get(f) != digest)


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
