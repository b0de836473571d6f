"""The reader caches per snapshot: a changed store file is read again, an unchanged one is not."""

from __future__ import annotations

import shutil

from huiyan.service.web import queries as Q
from huiyan.service.web.reader import Reader


def test_cache_is_kept_until_the_store_file_changes(web_region, tmp_path) -> None:
    db = tmp_path / "copy.duckdb"
    shutil.copy(web_region, db)
    reader = Reader(db)
    calls = []

    def counted(q, scope):
        calls.append(scope)
        return Q.totals(q, scope)

    first = reader.get(counted, None)
    assert reader.get(counted, None) == first
    assert len(calls) == 1
    import duckdb

    # A new snapshot is published by replacing the file (the open one stays readable).
    staged = tmp_path / "staged.duckdb"
    shutil.copy(web_region, staged)
    con = duckdb.connect(str(staged))
    con.execute("delete from setl_list where setl_id in (select setl_id from setl_list limit 10)")
    con.close()
    staged.replace(db)
    changed = reader.get(counted, None)
    assert len(calls) == 2
    assert changed["cases"] == first["cases"] - 10
    reader.close()


def test_cube_totals_match_the_tables(web_region) -> None:
    import duckdb

    reader = Reader(web_region)
    tot = reader.get(Q.totals, None)
    con = duckdb.connect(str(web_region), read_only=True)
    cases, cost = con.sql("select count(*), sum(medfee_sumamt) from setl_list").fetchall()[0]
    cmi = con.sql(
        "select avg(weight_or_score) from payment where method = 'DRG' and weight_or_score is not null"
    ).fetchall()[0][0]
    con.close()
    assert tot["cases"] == cases
    assert tot["cost"] == cost
    assert abs(tot["cmi"] - cmi) < 1e-9
    reader.close()


def test_background_reader_serves_the_old_snapshot_until_the_new_one_is_ready(
    web_region, tmp_path
) -> None:
    import time

    import duckdb

    old, new = tmp_path / "snap-1.duckdb", tmp_path / "snap-2.duckdb"
    shutil.copy(web_region, old)
    shutil.copy(web_region, new)
    con = duckdb.connect(str(new))
    con.execute("delete from setl_list where setl_id in (select setl_id from setl_list limit 7)")
    con.close()
    current = {"path": old}
    reader = Reader(lambda: current["path"], background=True)
    before = reader.get(Q.totals, None)["cases"]
    current["path"] = new  # the service published a new snapshot
    assert reader.get(Q.totals, None)["cases"] == before  # served from the old one meanwhile
    deadline = time.monotonic() + 60
    while reader.get(Q.totals, None)["cases"] == before:
        assert time.monotonic() < deadline, "new snapshot never swapped in"
        time.sleep(0.05)
    assert reader.get(Q.totals, None)["cases"] == before - 7
    reader.close()
