"""Header handling: delimiter detection and mapping of column names (and aliases) to the model."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from huiyan.errors import InputError
from huiyan.model import Table

DELIMITERS = (",", "\t", "|", ";")


def aliases(t: Table) -> dict[str, str]:
    """Every accepted spelling (name and interface aliases, lower-case) -> canonical name."""
    out: dict[str, str] = {}
    for f in t.fields:
        for name in (*f.aliases, f.name):
            out[name.lower()] = f.name
    return out


@dataclass(frozen=True)
class HeaderMap:
    """For each column of the file, the canonical name it feeds (``None``: not in the model)."""

    targets: tuple[str | None, ...]
    unknown: tuple[str, ...]

    @property
    def present(self) -> list[str]:
        return [t for t in self.targets if t]


def map_header(names: list[str], t: Table, source: str) -> HeaderMap:
    """Map file column names to ``t``; error naming the file when a required column is missing."""
    lookup = aliases(t)
    cleaned = [n.replace("\ufeff", "").strip().lower() for n in names]
    targets: list[str | None] = []
    unknown: list[str] = []
    seen: set[str] = set()
    # The canonical spelling wins over an alias when a file carries both.
    canonical_first = {lookup[n] for n in cleaned if n in lookup and lookup[n] == n}
    for raw, name in zip(names, cleaned, strict=True):
        target = lookup.get(name)
        if target is None or target in seen or (target in canonical_first and name != target):
            targets.append(None)
            unknown.append(raw.strip())
            continue
        seen.add(target)
        targets.append(target)
    missing = [c for c in t.required if c not in seen]
    if missing:
        hint = " (分隔符错误? wrong delimiter?)" if len(names) <= 1 else ""
        raise InputError(
            f"{source}: 缺少必需列 missing required columns {', '.join(missing)}{hint}; "
            f"表头 header: {', '.join(n.strip() for n in names)[:300]}"
        )
    return HeaderMap(tuple(targets), tuple(unknown))


def detect_delimiter(header_line: str, t: Table) -> str:
    """The delimiter that splits the header into the most known columns (ties: most columns)."""
    lookup = aliases(t)

    def score(d: str) -> tuple[int, int]:
        cells = split_header(header_line, d)
        return (sum(c.replace("\ufeff", "").strip().lower() in lookup for c in cells), len(cells))

    return max(DELIMITERS, key=score)


def split_header(line: str, delimiter: str) -> list[str]:
    return next(csv.reader(io.StringIO(line), delimiter=delimiter), [])
