"""The one-pass stage: file row numbers on a multi-buffer file, cleanup, phases, memory limit."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from tests.ingest.builders import FEE, SETL, quarantined, write_csv, write_dataset

from huiyan.engine import Store
from huiyan.errors import InputError
from huiyan.ingest import ingest
from huiyan.ingest.checks import scan_order_kept, stage_sql
from huiyan.model import table
from huiyan.model.tables import INPUT_TABLES, KNOWLEDGE_TABLES

ROWS = 200_000  # ~13 MB: 13 CSV buffers of 1 MiB, so the read is split between threads
HEADER = (
    "feedetl_sn,init_feedetl_sn,mdtrt_id,fee_ocur_time,med_list_codg,cnt,pric,det_item_fee_sumamt"
)


def _line(n: int) -> str:
    return f"{n},,M{1 + n % 5},2024-03-09 09:00:00,001102000050000,1,50,50"


def test_row_numbers_of_a_large_file_with_every_kind_of_late_error(
    store: Store, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small buffers: the ingest's 128 MiB would read this file as one batch.
    monkeypatch.setattr("huiyan.ingest.readers.CSV_BUFFER_BYTES", 1024 * 1024)
    write_dataset(data_dir)
    lines = [_line(n) for n in range(1, ROWS + 1)]
    lines[7 - 1] += ",extra"  # rejected by the reader
    lines[60_000 - 1] = lines[60_000 - 1].replace("2024-03-09", "2024-99-09")  # bad date
    lines[120_001 - 1] += ",extra"
    lines[150_000 - 1] = lines[150_000 - 1].replace(",M1,", ",M404,")  # orphan (150000 % 5 = 0)
    lines[170_000 - 1] = _line(10)  # duplicate of row 10's key, found after the read
    lines[199_999 - 1] = lines[199_999 - 1].replace(",1,50,50", ",-1,50,-50")  # refund w/o origin
    (data_dir / "feedetail.csv").write_text(HEADER + "\n" + "\n".join(lines) + "\n")
    report = ingest(data_dir, store)
    assert quarantined(store, "feedetail") == [
        (7, None, "column_count"),
        (60_000, "fee_ocur_time", "date"),
        (120_001, None, "column_count"),
        (150_000, "mdtrt_id", "orphan"),
        (170_000, "mdtrt_id+feedetl_sn", "duplicate_key"),
        (199_999, "cnt", "negative"),
    ]
    c = report.tables["feedetail"]
    assert (c.read, c.accepted, c.quarantined) == (ROWS, ROWS - 6, 6)
    assert store.count("feedetail") == ROWS - 6
    value, record = store.con.sql(
        "select value, record from quarantine where reason_code = 'orphan'"
    ).fetchall()[0]
    assert value == "M404" and '"feedetl_sn":"150000"' in record


def test_no_staging_table_is_left_behind(store: Store, data_dir: Path) -> None:
    write_dataset(data_dir)
    ingest(data_dir, store)
    assert not [t for t in store.tables() if t.startswith("__")]
    # A failing file (a required column missing) leaves the store as it was.
    bad = [{k: v for k, v in r.items() if k != "mdtrt_id"} for r in FEE]
    write_csv(data_dir / "feedetail.csv", bad)
    counts = {t: store.count(t) for t in ("setl_list", "feedetail", "quarantine")}
    with pytest.raises(InputError):
        ingest(data_dir, store)
    assert not [t for t in store.tables() if t.startswith("__")]
    assert {t: store.count(t) for t in counts} == counts


def test_a_later_load_replaces_into_the_stored_table(store: Store, data_dir: Path) -> None:
    # The first load keeps its stage as the table; a second file for the same table must
    # still be compared with it by key (here: two of the rows again, one changed).
    write_dataset(data_dir)
    ingest(data_dir, store)
    more = [dict(SETL[0]), dict(SETL[1]) | {"age": "77"}]
    more.append(dict(SETL[0]) | {"setl_id": "S9", "mdtrt_id": "M9"})
    write_csv(data_dir / "setl_list.csv", [*SETL, more[2]])
    report = ingest(data_dir, store)
    c = report.tables["setl_list"]
    assert (c.accepted, c.unchanged, c.replaced) == (len(SETL) + 1, len(SETL), 0)
    write_csv(data_dir / "setl_list.csv", more)
    report = ingest(data_dir, store)
    c = report.tables["setl_list"]
    assert (c.accepted, c.unchanged, c.replaced) == (3, 2, 1)
    ages = dict(store.con.sql("select setl_id, age from setl_list").fetchall())
    assert ages["S2"] == 77 and len(ages) == len(SETL) + 1


def test_phases_are_timed_and_the_memory_limit_restored(store: Store, data_dir: Path) -> None:
    write_dataset(data_dir)
    before = store.con.sql("select current_setting('memory_limit')").fetchall()
    report = ingest(data_dir, store)
    assert {"read+validate", "orphans", "duplicates", "quarantine", "store"} <= set(report.phases)
    assert all(s >= 0 for s in report.phases.values())
    assert all(c.seconds > 0 for c in report.tables.values())
    assert store.con.sql("select current_setting('memory_limit')").fetchall() == before


@pytest.mark.parametrize("name", [t.name for t in (*INPUT_TABLES, *KNOWLEDGE_TABLES)])
def test_the_stage_query_is_a_plain_scan(tmp_path: Path, name: str) -> None:
    # Rows are numbered by the order the scan inserts them; a join (DuckDB plans long IN lists
    # as one) or a window would reorder a parallel scan and misnumber the quarantine.
    t = table(name)
    path = tmp_path / f"{name}.csv"
    path.write_text(",".join(t.columns) + "\n" + ",".join("x" for _ in t.columns) + "\n")
    cols = ", ".join(f"'{c}': 'VARCHAR'" for c in t.columns)
    con = duckdb.connect()
    con.execute(
        f"CREATE VIEW raw AS SELECT * FROM read_csv('{path}', header = true, "
        f"auto_detect = false, columns = {{{cols}}})"
    )
    sql = stage_sql(t, t.columns, "raw", damaged=True, numbered=False)
    with scan_order_kept(con):
        plan = "\n".join(r[1] for r in con.sql(f"EXPLAIN {sql}").fetchall())
    operators = {op.upper() for op in re.findall(r"╭─ ([A-Za-z_ ]+?) ─", plan)}
    assert operators <= {"PROJECTION", "READ_CSV", "READ CSV"}, plan


def test_values_are_trimmed_of_spaces_including_unicode_ones(store: Store, data_dir: Path) -> None:
    rows = [dict(r) for r in SETL]
    rows[0]["psn_no"] = "\u3000P1\u3000"  # ideographic spaces, common in Chinese exports
    rows[1]["medins_code"] = " H37010001\u00a0"
    rows[2]["psn_no"] = "P\u30003"  # inner spaces stay
    rows[3]["insutype"] = "\u3000 "  # blank once trimmed: a missing required field
    write_dataset(data_dir, setl_list=rows)
    ingest(data_dir, store)
    stored = dict(
        store.con.sql("select setl_id, psn_no || '|' || medins_code from setl_list").fetchall()
    )
    assert stored["S1"] == "P1|H37010001"
    assert stored["S2"] == "P2|H37010001"
    assert stored["S3"] == "P\u30003|H37010001"
    assert quarantined(store, "setl_list") == [(4, "insutype", "required")]


def test_typed_values_are_read_through_spaces_of_every_kind(store: Store, data_dir: Path) -> None:
    # Typed fields are converted from the file's text and trimmed only when that fails: the
    # outcome must be that of converting the trimmed text.
    rows = [dict(r) for r in SETL]
    rows[0]["medfee_sumamt"] = " 12000.50 "  # ASCII spaces, which the cast accepts itself
    rows[1]["medfee_sumamt"] = "\u300012000.50\u00a0"  # Unicode spaces, trimmed on the retry
    rows[1]["adm_time"] = "\u30002024-03-02 08:00:00"
    rows[2]["age"] = "\u3000 "  # blank once trimmed: missing, not a bad number
    rows[3]["medfee_sumamt"] = "\u300012 000"  # an inner space stays: not a number
    rows[4]["adm_time"] = " 20240305080000\u3000"  # a compact form, after the trim
    write_dataset(data_dir, setl_list=rows)
    ingest(data_dir, store)
    stored = dict(
        store.con.sql(
            "select setl_id, medfee_sumamt::VARCHAR || '|' || adm_time::VARCHAR || '|' "
            "|| coalesce(age::VARCHAR, '-') from setl_list"
        ).fetchall()
    )
    assert stored["S1"] == "12000.50|2024-03-01 08:00:00|31"
    assert stored["S2"] == "12000.50|2024-03-02 08:00:00|32"
    assert stored["S3"] == "12000.50|2024-03-03 08:00:00|-"
    assert stored["S5"] == "12000.50|2024-03-05 08:00:00|35"
    assert quarantined(store, "setl_list") == [(4, "medfee_sumamt", "type")]
    value, record = store.con.sql("select value, record from quarantine").fetchall()[0]
    assert value == "12 000"  # the value cleaned, as every check reads it
    assert '"medfee_sumamt":"\u300012 000"' in record  # the record as submitted


def test_the_cleaning_expression_is_trim_with_blank_as_null() -> None:
    # checks.clean skips trim() for values it cannot change; the skip must never change a
    # value: for every kind of end (spaces, Unicode spaces, controls, non-ASCII, empty) the
    # result is exactly nullif(trim(x), '').
    from huiyan.ingest.checks import clean

    ends = ["", " ", "\u3000", "\u00a0", "\t", "\n", "\x7f", "\u200b", "\ufeff", "中", "a", "!"]
    values = [a + m + b for a in ends for b in ends for m in ("", "x", "医 院", "a b")]
    con = duckdb.connect()
    con.execute("CREATE TABLE v AS SELECT unnest(?::VARCHAR[]) AS x", [[*values, None]])
    differ = con.sql(
        f"SELECT x FROM v WHERE {clean('x')} IS DISTINCT FROM nullif(trim(x), '')"
    ).fetchall()
    assert differ == []
