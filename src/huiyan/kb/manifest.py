"""Versioned data sets of the knowledge base: every ``data/**/manifest.yaml``, and their checksums.

Each data folder carries its own ``manifest.yaml`` (so a new scheme or catalog is added by
dropping in a folder, without editing anyone else's file)::

    name: nhsa-lk-2025
    version: "2025"
    kind: knowledge points
    source: ...
    license: ...
    attribution: 国家医疗保障局 ...
    effective_from: 2025-01-01
    effective_to: null
    files:
      b1_drug_sex_points.csv: <sha256>

``python -m huiyan.kb.build.manifest FOLDER`` rewrites the ``files`` of one manifest from the
folder's contents; ``verify()`` (``huiyan kb verify``) checks every file against its sum.

``data/datasets.yaml`` lists every data folder the package declares: an installation missing
a whole folder (as a wheel once did) fails verification instead of passing with fewer sets.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from importlib import resources
from importlib.abc import Traversable
from typing import Any

import yaml

from huiyan.errors import ConfigurationError

MANIFEST = "manifest.yaml"
DECLARED = "datasets.yaml"
REQUIRED = ("name", "version", "files")


@dataclass(frozen=True)
class DataSet:
    """One data folder as its manifest describes it."""

    folder: str
    name: str
    version: str
    kind: str
    source: str
    license: str
    attribution: str
    effective_from: str | None
    effective_to: str | None
    files: dict[str, str] = field(default_factory=dict)


def _walk(node: Traversable, prefix: str) -> list[tuple[str, Traversable]]:
    found = []
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if child.is_dir():
            found.extend(_walk(child, f"{prefix}{child.name}/"))
        elif child.name == MANIFEST:
            found.append((prefix.rstrip("/"), child))
    return found


def data_root() -> Traversable:
    """The package's ``kb/data`` folder."""
    return resources.files("huiyan.kb").joinpath("data")


def datasets() -> list[DataSet]:
    """Every data set with a manifest, ordered by folder."""
    result = []
    for folder, path in _walk(data_root(), ""):
        doc: dict[str, Any] = yaml.safe_load(path.read_text("utf-8")) or {}
        missing = [k for k in REQUIRED if k not in doc]
        if missing:
            raise ConfigurationError(f"data/{folder}/{MANIFEST}: 缺少字段 missing {missing}")
        result.append(
            DataSet(
                folder=folder,
                name=str(doc["name"]),
                version=str(doc["version"]),
                kind=str(doc.get("kind") or doc.get("title") or ""),
                source=_source(doc.get("source")),
                license=str(doc.get("license") or _nested(doc.get("source"), "license")),
                attribution=str(doc.get("attribution", "")),
                effective_from=_date(doc.get("effective_from")),
                effective_to=_date(doc.get("effective_to")),
                files={str(k): str(v) for k, v in (doc["files"] or {}).items()},
            )
        )
    return result


def _source(value: object) -> str:
    # A scheme manifest may describe its source as a mapping (repository, commit, ...).
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items() if k != "license")
    return "" if value is None else str(value)


def _nested(value: object, key: str) -> str:
    return str(value.get(key, "")) if isinstance(value, dict) else ""


def _date(value: object) -> str | None:
    return None if value is None else str(value)


def sha256(path: Traversable) -> str:
    """The hex SHA-256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def declared() -> list[str]:
    """The data folders ``data/datasets.yaml`` declares (relative to ``kb/data``)."""
    path = data_root().joinpath(DECLARED)
    if not path.is_file():
        raise ConfigurationError(f"kb/data/{DECLARED}: 数据集清单缺失 dataset list missing")
    doc = yaml.safe_load(path.read_text("utf-8")) or {}
    return [str(f) for f in doc.get("datasets") or []]


def verify() -> list[str]:
    """Problems found (empty when every declared data set and listed file is there, intact).

    Files in a folder that its manifest does not list are problems too: unversioned data
    would otherwise ship unnoticed; so are folders with a manifest that ``datasets.yaml``
    does not declare.
    """
    problems = []
    found = {ds.folder for ds in datasets()}
    for folder in declared():
        if folder not in found:
            problems.append(f"{folder}/{MANIFEST}: 数据集缺失 declared data set missing")
    for folder in sorted(found - set(declared())):
        problems.append(f"{folder}: 未在 {DECLARED} 中登记 data set not declared")
    for ds in datasets():
        root = data_root().joinpath(ds.folder)
        for name, expected in ds.files.items():
            path = root.joinpath(name)
            if not path.is_file():
                problems.append(f"{ds.folder}/{name}: 文件缺失 missing")
            elif sha256(path) != expected:
                problems.append(f"{ds.folder}/{name}: 校验和不符 checksum mismatch")
        for child in root.iterdir():
            if child.is_file() and child.name != MANIFEST and child.name not in ds.files:
                problems.append(f"{ds.folder}/{child.name}: 未登记 not in manifest")
    return problems
