"""Docstrings and data files cite documents that ship in the repository (``docs/``)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CITED = re.compile(r"(?<![\w/.-])((?:docs/)?[\w-]+\.md)\b(?: §([0-9A-Z][\w.]*))?")
SOURCES = [
    p
    for folder in ("src", "tests", "benchmarks")
    for p in (REPO / folder).rglob("*")
    if p.suffix in (".py", ".yaml", ".md") and p.is_file() and p != Path(__file__).resolve()
]
NAMES = ("design.md", "domain-reference.md", "style-anchors.md", "stack.md")


def _cited() -> set[tuple[str, str]]:
    found = set()
    for path in SOURCES:
        for m in CITED.finditer(path.read_text("utf-8", errors="replace")):
            if m.group(1).split("/")[-1] in (
                "design.md",
                "domain-reference.md",
                "style-anchors.md",
                "stack.md",
            ):
                found.add((str(path.relative_to(REPO)), m.group(1)))
    return found


def test_design_documents_are_cited_where_they_ship() -> None:
    cited = _cited()
    assert cited, "no citation found: the pattern is wrong"
    missing = sorted((where, doc) for where, doc in cited if not (REPO / doc).is_file())
    assert missing == []
