"""Shared fixtures: the reference data tests compare against, a throwaway store, a Spark session."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# pytest-xdist starts its workers with COLUMNS=80 in the environment, and the CLI's Rich
# consoles, created when huiyan.cli.console is imported, would keep that width for every test of
# the worker. Imported here without it, they read COLUMNS at each print, so the width a test
# gives its CliRunner call applies (80 columns when it gives none, as in a pipe).
os.environ.pop("COLUMNS", None)
import huiyan.cli.console  # noqa: F401
from huiyan.engine import Store

REPO = Path(__file__).resolve().parents[1]
# A verbatim subset of the project's external reference collection, kept in the repository
# (tests/data/README.md states source and licence) so that a fresh clone tests on its own.
REFERENCE = REPO / "tests" / "data" / "reference"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """An empty embedded store in a temporary file."""
    s = Store(tmp_path / "test.duckdb")
    yield s
    s.close()


@pytest.fixture(scope="session")
def reference_data() -> Path:
    """Reference data in the repository (``tests/data/reference``, same layout as
    the project's external reference collection; the product never reads it). Part of the
    checkout: missing means a broken clone, not an optional extra."""
    if not REFERENCE.is_dir():
        pytest.fail(f"reference data not found at {REFERENCE}")
    return REFERENCE


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One local Spark session (2 cores, UTC) for every ``spark``-marked test."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # Python workers (mapInArrow) must run this interpreter, which has huiyan installed.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .config("spark.driver.memory", "2g")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("spark-warehouse")))
        .getOrCreate()
    )
    yield session
    session.stop()
