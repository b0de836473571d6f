"""Ingesting the same files again adds nothing; a changed row replaces its key, counted."""

from __future__ import annotations

from pathlib import Path

from tests.ingest.builders import SETL, write_csv, write_dataset

from huiyan.engine import Store
from huiyan.ingest import ingest


def _counts(store: Store) -> dict[str, int]:
    return {
        t: store.count(t) for t in ("setl_list", "diseinfo", "oprninfo", "feedetail", "quarantine")
    }


def test_same_files_twice_add_nothing(store: Store, data_dir: Path) -> None:
    write_dataset(data_dir)
    first = ingest(data_dir, store)
    before = _counts(store)
    second = ingest(data_dir, store)
    assert _counts(store) == before
    assert second.tables == {}
    assert len(second.skipped_files) == len(first.files)


def test_changed_row_replaces_its_key(store: Store, data_dir: Path) -> None:
    write_dataset(data_dir)
    ingest(data_dir, store)
    changed = [dict(r) for r in SETL]
    changed[1]["medfee_sumamt"] = "13000.00"
    write_csv(data_dir / "setl_list.csv", changed)
    report = ingest(data_dir, store)
    c = report.tables["setl_list"]
    assert (c.read, c.accepted, c.replaced, c.unchanged) == (len(SETL), len(SETL), 1, len(SETL) - 1)
    assert store.count("setl_list") == len(SETL)
    fee = store.con.sql("select medfee_sumamt from setl_list where setl_id = 'S2'").fetchall()[0][0]
    assert float(fee) == 13000.0
    logged = store.con.sql(
        "select sum(rows_replaced) from ingest_batch where table_name = 'setl_list'"
    )
    assert logged.fetchall()[0][0] == 1
