"""Engines under test: every implementation of ``huiyan.engine.Engine`` runs the same
conformance tests. To add an implementation, add a factory to ``FACTORIES`` (and its marks)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from huiyan.engine import Engine, Store


def _duckdb(tmp_path: Path, request: pytest.FixtureRequest) -> Engine:
    return Store(tmp_path / "engine.duckdb")


def _spark(tmp_path: Path, request: pytest.FixtureRequest) -> Engine:
    from huiyan.engine.spark import open_engine

    return open_engine(session=request.getfixturevalue("spark"), warehouse=tmp_path / "wh")


# name -> (factory(tmp_path, request) -> Engine, pytest marks). The Spark implementation adds
# ("spark", (factory using the session-scoped ``spark`` fixture, [pytest.mark.spark])).
FACTORIES: dict[str, tuple[Callable[[Path, pytest.FixtureRequest], Engine], list[Any]]] = {
    "duckdb": (_duckdb, []),
    "spark": (_spark, [pytest.mark.spark]),
}


@pytest.fixture(params=[pytest.param(k, marks=m) for k, (_, m) in FACTORIES.items()])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """Each registered engine, empty, in a temporary location."""
    factory, _ = FACTORIES[request.param]
    eng = factory(tmp_path, request)
    yield eng
    eng.close()
