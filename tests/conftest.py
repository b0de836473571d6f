"""Shared fixtures: paths to the shared reference data and a throwaway store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from huiyan.engine import Store

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """An empty embedded store in a temporary file."""
    s = Store(tmp_path / "test.duckdb")
    yield s
    s.close()


@pytest.fixture(scope="session")
def shared_reference() -> Path:
    """``../shared/reference`` (tests may read it; the product must not)."""
    path = SHARED / "reference"
    if not path.is_dir():
        pytest.fail(f"shared reference data not found at {path}")
    return path
