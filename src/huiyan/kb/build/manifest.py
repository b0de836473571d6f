"""Rewrite the ``files`` checksums of one data folder's ``manifest.yaml``.

Run: ``python -m huiyan.kb.build.manifest lk/nhsa-lk-2025`` (a folder under ``kb/data``).
Every other field is kept as written.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from huiyan.kb.manifest import MANIFEST, data_root, sha256


def refresh(folder: str) -> Path:
    """Recompute the checksums of every file in ``kb/data/<folder>``; returns the manifest."""
    root = data_root().joinpath(folder)
    path = Path(str(root.joinpath(MANIFEST)))
    doc = yaml.safe_load(path.read_text("utf-8"))
    doc["files"] = {
        c.name: sha256(c)
        for c in sorted(root.iterdir(), key=lambda c: c.name)
        if c.is_file() and c.name != MANIFEST
    }
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        refresh(arg)
