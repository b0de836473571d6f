"""Which functions ``SparkEngine.map_batches`` ships by value: those whose module the executors
cannot import. Checked without Spark, because whether a by-reference function imports on a local
worker depends on the machine's environment (it failed in CI only)."""

from __future__ import annotations

import functools
import sys

import pyarrow as pa
import pyarrow.compute as pc

from huiyan.engine.spark import _shipped_modules
from huiyan.grouping.outputs import drg_result_rows


def _local(batch: pa.RecordBatch) -> pa.Table:
    return pa.Table.from_batches([batch])


def test_functions_outside_installed_packages_are_shipped() -> None:
    here = sys.modules[__name__]
    # This module is imported by pytest from tests/, which the executors do not have on their path.
    assert _shipped_modules(_local) == [here]
    assert _shipped_modules(functools.partial(_local)) == [here]
    # A partial of a huiyan function with an argument from here ships this module too.
    assert _shipped_modules(functools.partial(drg_result_rows, _local)) == [here]


def test_huiyan_and_installed_functions_go_by_reference() -> None:
    assert _shipped_modules(drg_result_rows) == []
    assert _shipped_modules(functools.partial(drg_result_rows, "s1")) == []
    assert _shipped_modules(pc.utf8_lower) == []
    assert _shipped_modules(functools.partial(sorted, key=len)) == []
