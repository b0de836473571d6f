"""The store: nested transactions commit as one, storage failures are clear errors."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pytest

from huiyan.engine import Store
from huiyan.engine.store import storage_error
from huiyan.errors import StorageError


def _rows(n: int) -> pa.Table:
    return pa.table({"medins_code": [f"H{i}" for i in range(n)], "medins_lv": ["3"] * n})


def test_nested_transactions_roll_back_together(store: Store) -> None:
    store.write("medins", _rows(1))
    with pytest.raises(RuntimeError), store.transaction():
        store.write("medins", _rows(3), mode="replace")  # a transaction of its own, nested
        with store.transaction():
            store.write("medins", _rows(2))
        assert store.count("medins") == 5
        raise RuntimeError("killed")
    assert store.count("medins") == 1
    assert not store.in_transaction
    with store.transaction(), store.transaction():
        store.write("medins", _rows(2))
    assert store.count("medins") == 3


def test_rows_appended_after_an_empty_replace_are_read_in_the_same_transaction(
    store: Store,
) -> None:
    """QC's pattern at 1M settlements: replace with nothing, append more than a row group
    (122,880 rows), count before commit. DuckDB 2.0.0 hid those rows until the commit when an
    empty INSERT followed the DELETE (QC counted 0 issues)."""
    store.write("medins", _rows(10))
    big = _rows(130_000)
    with store.transaction():
        assert store.write("medins", _rows(0), mode="replace") == 0
        store.write("medins", big)
        assert store.count("medins") == 130_000
        t = store.table("medins")
        assert store.to_arrow(t.aggregate(n=t.count())).to_pylist() == [{"n": 130_000}]
    assert store.count("medins") == 130_000


def test_store_in_use_names_the_holding_process(tmp_path: Path) -> None:
    path = tmp_path / "busy.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys, time; c = duckdb.connect({str(path)!r}); "
            "print('ready', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        started = time.monotonic()
        with pytest.raises(StorageError) as err:
            Store(path, wait=1.0)
        assert time.monotonic() - started >= 1.0
        assert f"PID {holder.pid}" in str(err.value)
        assert "使用" in str(err.value) and "in use" in str(err.value)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    with Store(path) as store:  # free again once the other process ended
        assert store.tables() == []


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("IO Error: Could not write file: No space left on device", "磁盘空间已满"),
        ('IO Error: Cannot open file "x": Permission denied', "无权限"),
    ],
)
def test_disk_full_and_permission_denied_become_storage_errors(message: str, expected: str) -> None:
    import duckdb

    err = storage_error(Path("/data/huiyan.duckdb"), duckdb.IOException(message))
    assert isinstance(err, StorageError)
    assert expected in str(err) and "/data/huiyan.duckdb" in str(err)


def test_unwritable_folder_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError):
        Store(tmp_path / "missing-folder" / "x.duckdb")


def _limit(store: Store) -> str:
    return str(store.con.sql("SELECT current_setting('memory_limit')").fetchall()[0][0])


def test_store_caps_its_memory_below_duckdb_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HUIYAN_MEMORY_LIMIT", raising=False)
    import duckdb

    with duckdb.connect() as con:
        duck_default = str(con.sql("SELECT current_setting('memory_limit')").fetchall()[0][0])
    with Store(tmp_path / "a.duckdb") as store:
        capped = _limit(store)
        assert capped != duck_default
        # A heavy step's own cap is lifted afterwards back to the store's, not DuckDB's.
        with store.memory_limit("1GB"):
            assert _limit(store) != capped
        assert _limit(store) == capped


def test_store_memory_limit_and_temp_directory_from_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUIYAN_MEMORY_LIMIT", "1500MB")
    monkeypatch.setenv("HUIYAN_TEMP_DIRECTORY", str(tmp_path / "spill"))
    with Store(tmp_path / "b.duckdb") as store:
        assert _limit(store) == "1.3 GiB"  # 1500 MB, as DuckDB reads it back
        temp = store.con.sql("SELECT current_setting('temp_directory')").fetchall()[0][0]
        assert temp == str(tmp_path / "spill")
