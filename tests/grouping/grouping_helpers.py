"""Helpers shared by the grouping tests: scheme list, modes, expected results.

Every scheme's reference cases are in ``tests/data/drg/<scheme>/sample_cases.csv`` (copied from
the verified reference folders; source and licence in ``tests/data/drg/README.md``).
"""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data" / "drg"
SCHEMES = tuple(sorted(p.name for p in DATA.iterdir() if (p / "sample_cases.csv").is_file()))
RAW_ONLY = {"suzhou-2023", "wuxi-2022"}  # the reference has no mapped mode for them (REGIONAL.md)
MODES = [
    (s, m) for s in SCHEMES for m in ("raw", "mapped") if not (m == "mapped" and s in RAW_ONLY)
]
RESULT_COLUMNS = ("status", "mdc", "adrg", "drg")


def sample_path(scheme: str) -> Path:
    return DATA / scheme / "sample_cases.csv"


def expected(row: dict[str, str], mode: str) -> tuple[str, ...]:
    suffix = "_mapped" if mode == "mapped" else ""
    return tuple(str(row[c + suffix]) for c in RESULT_COLUMNS)
