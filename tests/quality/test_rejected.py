"""Settlement lists rejected at ingest appear in qc_issue and count in the four indicators."""

from __future__ import annotations

from pathlib import Path

from tests.ingest.builders import SETL, write_dataset

from huiyan.engine import Store
from huiyan.ingest import ingest
from huiyan.kb import config
from huiyan.quality.service import run_qc


def _indicator(store: Store, name: str) -> tuple[int, int]:
    return store.con.sql(
        "select numerator, denominator from qc_indicator where indicator = ? "
        "and medins_code = 'H37010001' and period = '2024-03'",
        params=[name],
    ).fetchall()[0]


def test_rejected_lists_are_qc_errors_and_count(store: Store, tmp_path: Path) -> None:
    rows = [dict(r) for r in SETL]
    rows[1]["dscg_time"] = "2024-03-01 07:00:00"  # before admission: rejected at ingest
    rows[3]["gend"] = "X"  # outside the code table
    data = write_dataset(tmp_path / "data", setl_list=rows)
    ingest(data, store)
    assert store.count("setl_list") == len(SETL) - 2

    run_qc(store, config.load(None))
    got = store.con.sql(
        "select setl_id, medins_code, check_id, field, severity, message from qc_issue "
        "where check_id like 'QC-I%' order by 1"
    ).fetchall()
    assert [g[:5] for g in got] == [
        ("S2", "H37010001", "QC-I006", "dscg_time", "error"),
        ("S4", "H37010001", "QC-I004", "gend", "error"),
    ]
    assert all("入库时被拒绝" in g[5] for g in got)
    # Both are uploaded lists that failed: in every denominator, in no numerator but upload.
    uploaded, required = _indicator(store, "upload_rate")
    assert required == len(SETL) and uploaded >= 2
    passed, lists = _indicator(store, "qc_pass_rate")
    assert lists == uploaded and passed <= lists - 2
    complete, lists = _indicator(store, "completeness_rate")
    assert lists == uploaded and complete <= lists - 1  # the code error is a validity error


def test_a_list_accepted_later_is_no_longer_rejected(store: Store, tmp_path: Path) -> None:
    rows = [dict(r) for r in SETL]
    rows[1]["dscg_time"] = "2024-03-01 07:00:00"
    ingest(write_dataset(tmp_path / "a", setl_list=rows), store)
    ingest(write_dataset(tmp_path / "b", setl_list=[SETL[1]]), store)  # the corrected list
    run_qc(store, config.load(None))
    assert store.con.sql(
        "select count(*) from qc_issue where check_id like 'QC-I%'"
    ).fetchall() == [(0,)]
