"""Helpers shared by the grouping tests: scheme list, modes, expected results."""

from __future__ import annotations

from pathlib import Path

SCHEMES = ("chs-drg-1.1", "chs-drg-1.0", "liaocheng-2022", "suzhou-2023")
RAW_ONLY = {"suzhou-2023"}  # the reference has no mapped mode for Suzhou (README)
MODES = [
    (s, m) for s in SCHEMES for m in ("raw", "mapped") if not (m == "mapped" and s in RAW_ONLY)
]
RESULT_COLUMNS = ("status", "mdc", "adrg", "drg")


def sample_path(reference: Path, scheme: str) -> Path:
    return reference / scheme / "sample_cases.csv"


def expected(row: dict[str, str], mode: str) -> tuple[str, ...]:
    suffix = "_mapped" if mode == "mapped" else ""
    return tuple(str(row[c + suffix]) for c in RESULT_COLUMNS)
