"""Each kind of bad input: a clear error for a file that cannot be read, quarantine for a row."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tests.ingest.builders import DISE, FEE, MEDINS, SETL, quarantined, write_dataset

from huiyan.engine import Store
from huiyan.errors import InputError
from huiyan.ingest import ingest


def _ingest_setl(store: Store, data_dir: Path, rows: list[dict[str, str]]):
    write_dataset(data_dir, setl_list=rows)
    return ingest(data_dir, store)


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("age", "thirty", "type"),
        ("medfee_sumamt", "12,000", "type"),
        ("adm_time", "2024-13-45 08:00:00", "date"),
        ("dscg_time", "2024-03-01 07:00:00", "time_order"),
        ("gend", "M", "enum"),
        ("insutype", "", "required"),
        ("medfee_sumamt", "-5", "negative_value"),
    ],
)
def test_bad_value_is_quarantined_with_row_and_field(
    store: Store, data_dir: Path, field: str, value: str, code: str
) -> None:
    rows = [dict(r) for r in SETL]
    rows[2][field] = value
    report = _ingest_setl(store, data_dir, rows)
    assert quarantined(store, "setl_list") == [(3, field, code)]
    assert report.tables["setl_list"].accepted == len(SETL) - 1
    reason, reason_en, record = store.con.sql(
        "select reason, reason_en, record from quarantine"
    ).fetchall()[0]
    assert field in reason and "S3" in record
    assert field in reason_en and not re.search("[\u4e00-\u9fff]", reason_en)  # no Chinese


def test_labels_and_aliases_of_enumeration_codes_are_stored_as_the_codes(
    store: Store, data_dir: Path
) -> None:
    # docs/design.md §3 writes medins_type as "general 综合, TCM 中医 ..."; exports write 男/女.
    medins = [
        dict(MEDINS[0], medins_code=f"H{i}", medins_type=kind, medins_lv=lv)
        for i, (kind, lv) in enumerate(
            [
                ("综合", "3"),
                ("中医医院", "二级"),
                ("TCM", "三级医院"),
                ("general", " 1 "),
                ("妇幼", "3"),
            ]
        )
    ]
    setl = [dict(r) for r in SETL]
    setl[0]["gend"], setl[1]["gend"] = "女", "男"
    write_dataset(data_dir, medins=medins, setl_list=setl)
    report = ingest(data_dir, store)
    stored = store.con.sql("select medins_code, medins_type, medins_lv from medins order by 1")
    assert stored.fetchall() == [
        ("H0", "general", "3"),
        ("H1", "tcm", "2"),
        ("H2", "tcm", "3"),
        ("H3", "general", "1"),
    ]
    assert quarantined(store, "medins") == [(5, "medins_type", "enum")]  # not a known kind
    assert report.tables["setl_list"].quarantined == 0
    gend = store.con.sql("select setl_id, gend from setl_list where setl_id in ('S1', 'S2')")
    assert sorted(gend.fetchall()) == [("S1", "2"), ("S2", "1")]
    value, record = store.con.sql("select value, record from quarantine").fetchall()[0]
    assert value == "妇幼" and '"medins_type":"妇幼"' in record


def test_negative_quantity_needs_an_original_line(store: Store, data_dir: Path) -> None:
    fee = [dict(r) for r in FEE[:3]]
    fee[1] |= {"cnt": "-1", "det_item_fee_sumamt": "-50", "init_feedetl_sn": "1"}
    fee[2] |= {"cnt": "-1", "det_item_fee_sumamt": "-50"}
    write_dataset(data_dir, feedetail=fee)
    ingest(data_dir, store)
    assert quarantined(store, "feedetail") == [(3, "cnt", "negative")]


def test_unknown_code_is_kept_for_qc(store: Store, data_dir: Path) -> None:
    dise = [dict(r) for r in DISE]
    dise[1]["diag_code"] = "ZZ9.999"
    write_dataset(data_dir, diseinfo=dise)
    report = ingest(data_dir, store)
    assert report.tables["diseinfo"].quarantined == 0
    assert ("ZZ9.999",) in store.con.sql("select diag_code from diseinfo").fetchall()


def test_duplicate_key_keeps_the_first_valid_row(store: Store, data_dir: Path) -> None:
    bad_first = dict(SETL[0]) | {"age": "x"}
    rows = [bad_first, *SETL]  # row 1 invalid, row 2 is the first valid S1
    report = _ingest_setl(store, data_dir, [*rows, SETL[0]])
    assert quarantined(store, "setl_list") == [(1, "age", "type"), (7, "setl_id", "duplicate_key")]
    assert report.tables["setl_list"].accepted == len(SETL)


def test_orphans_of_missing_or_quarantined_parents(store: Store, data_dir: Path) -> None:
    rows = [dict(r) for r in SETL]
    rows[0]["gend"] = "X"  # S1 quarantined -> its diagnoses and fees are orphans
    dise = [
        *DISE,
        {
            "setl_id": "S404",
            "diag_srt_no": "1",
            "diag_code": "I10.x00",
            "diag_name": "高血压",
            "maindiag_flag": "1",
        },
    ]
    write_dataset(data_dir, setl_list=rows, diseinfo=dise)
    report = ingest(data_dir, store)
    assert [r[2] for r in quarantined(store, "diseinfo")] == ["orphan"] * 3
    assert report.tables["feedetail"].quarantined == sum(r["mdtrt_id"] == "M1" for r in FEE)


def test_truncated_last_line(store: Store, data_dir: Path) -> None:
    write_dataset(data_dir)
    path = data_dir / "feedetail.csv"
    path.write_bytes(path.read_bytes().rstrip(b"\n")[:-9])
    report = ingest(data_dir, store)
    assert quarantined(store, "feedetail") == [(len(FEE), None, "truncated")]
    assert report.tables["feedetail"].read == len(FEE)


def test_row_numbers_follow_the_file_around_rejected_lines(store: Store, data_dir: Path) -> None:
    write_dataset(data_dir)
    path = data_dir / "feedetail.csv"
    lines = path.read_text().splitlines()
    lines[3] += ",extra"  # data row 3 has a column too many
    lines[4] = lines[4].replace("2024-03-09", "2024-99-09")  # data row 4: bad date
    lines[5] += ",extra"
    path.write_text("\n".join(lines) + "\n")
    ingest(data_dir, store)
    assert quarantined(store, "feedetail") == [
        (3, None, "column_count"),
        (4, "fee_ocur_time", "date"),
        (5, None, "column_count"),
    ]
    rows = store.con.sql(
        "select feedetl_sn from feedetail order by cast(feedetl_sn as int)"
    ).fetchall()
    assert [int(r[0]) for r in rows] == [n for n in range(1, 21) if n not in (3, 4, 5)]


def test_empty_file_and_header_only(store: Store, data_dir: Path) -> None:
    write_dataset(data_dir)
    (data_dir / "oprninfo.csv").write_bytes(b"")
    (data_dir / "diseinfo.csv").write_text("setl_id,diag_srt_no,diag_code\n")
    report = ingest(data_dir, store)
    assert report.tables["oprninfo"].read == 0 and report.tables["diseinfo"].read == 0
    assert any("oprninfo.csv" in n and "empty" in n for n in report.notes)


def test_missing_required_column_names_file_and_columns(store: Store, data_dir: Path) -> None:
    write_dataset(
        data_dir, setl_list=[{k: v for k, v in r.items() if k != "dscg_time"} for r in SETL]
    )
    with pytest.raises(InputError, match=r"setl_list\.csv.*dscg_time"):
        ingest(data_dir, store)


def test_wrong_delimiter_is_named(store: Store, data_dir: Path) -> None:
    write_dataset(data_dir)
    text = (data_dir / "setl_list.csv").read_text().replace(",", "#")
    (data_dir / "setl_list.csv").write_text(text)
    with pytest.raises(InputError, match="wrong delimiter"):
        ingest(data_dir, store)


def test_gbk_file_with_stray_utf8_and_undecodable_lines(store: Store, data_dir: Path) -> None:
    write_dataset(data_dir)
    lines = [
        b"setl_id,diag_srt_no,diag_code,diag_name",
        "S1,1,I21.000,急性心肌梗死".encode("gbk"),
        "S2,1,J18.900,肺炎".encode(),  # pasted from a UTF-8 source
        b"S3,1,K35.800,\x81\x20bad",  # bytes valid in neither encoding
        "S4,1,K35.800,急性阑尾炎".encode("gbk"),
    ]
    (data_dir / "diseinfo.csv").write_bytes(b"\n".join(lines) + b"\n")
    report = ingest(data_dir, store)
    assert quarantined(store, "diseinfo") == [(3, None, "encoding")]
    names = store.con.sql("select diag_name from diseinfo order by setl_id").fetchall()
    assert names == [("急性心肌梗死",), ("肺炎",), ("急性阑尾炎",)]
    assert report.tables["diseinfo"].read == 4


def test_mixed_file_decoded_line_by_line(store: Store, data_dir: Path) -> None:
    # Within the detection sample the mix is seen, and each line is decoded in its own encoding.
    write_dataset(data_dir)
    head = "setl_id,diag_srt_no,diag_code,diag_name\n" + "S1,1,I21.000,急性心肌梗死\n"
    data = head.encode() + "S2,1,J18.900,肺炎\n".encode("gbk") + "S3,1,K35.800,阑尾炎\n".encode()
    (data_dir / "diseinfo.csv").write_bytes(data)
    ingest(data_dir, store)
    names = store.con.sql("select diag_name from diseinfo order by setl_id").fetchall()
    assert names == [("急性心肌梗死",), ("肺炎",), ("阑尾炎",)]


def test_gbk_line_far_into_a_utf8_file_is_decoded(store: Store, data_dir: Path) -> None:
    # The encoding is decided on the whole file: the stray GBK line, far past any sample,
    # is seen and decoded as GBK while the UTF-8 lines stay UTF-8; no valid row is lost.
    setl = [dict(SETL[0]) | {"setl_id": f"S{i}", "mdtrt_id": f"M{i}"} for i in range(1, 4001)]
    dise = [
        {
            "setl_id": f"S{i}",
            "diag_srt_no": "1",
            "diag_code": "I21.000",
            "diag_name": "急性前壁心肌梗死" * 4,
        }
        for i in range(1, 4001)
    ]
    write_dataset(data_dir, setl_list=setl, diseinfo=dise)
    path = data_dir / "diseinfo.csv"
    lines = path.read_bytes().splitlines()
    lines[3500] = "S3500,1,I21.000,急性心肌梗死".encode("gbk")
    path.write_bytes(b"\n".join(lines) + b"\n")
    report = ingest(data_dir, store)
    assert quarantined(store, "diseinfo") == []
    assert report.tables["diseinfo"].accepted == 4000
    names = store.con.sql(
        "select setl_id, diag_name from diseinfo where setl_id in ('S3500', 'S3501') order by 1"
    ).fetchall()
    assert names == [("S3500", "急性心肌梗死"), ("S3501", "急性前壁心肌梗死" * 4)]


def test_stray_quote_does_not_crash(store: Store, data_dir: Path) -> None:
    write_dataset(data_dir)
    path = data_dir / "feedetail.csv"
    lines = path.read_text().splitlines()
    lines[18] = lines[18].replace("001102000050000", '"001102000050000')  # never closed
    path.write_text("\n".join(lines) + "\n")
    report = ingest(data_dir, store)
    c = report.tables["feedetail"]
    # The open quote swallows the rest of the file into one malformed record, quarantined.
    assert c.accepted == 17 and c.read == c.accepted + c.quarantined
    assert quarantined(store, "feedetail")[0][0] == 18


def test_duplicate_keys_are_told_apart_from_hash_collisions() -> None:
    # The second step of the duplicate check groups by the key itself: a hash listed by the
    # first step whose rows hold different keys (a collision) marks nothing.
    import duckdb

    from huiyan.ingest.checks import duplicate_hashes_sql, duplicate_keys_sql
    from huiyan.model import table

    t = table("feedetail")
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE stage AS SELECT * FROM (VALUES ('M1', '1', NULL), ('M1', '1', NULL), "
        "('M1', '2', NULL), ('M2', '1', NULL), ('M2', '1', '{}')) v(mdtrt_id, feedetl_sn, __e)"
    )
    columns = ["mdtrt_id", "feedetl_sn"]
    con.execute(f"CREATE TABLE h AS {duplicate_hashes_sql(t, columns, 'stage')}")
    assert con.sql("SELECT count(*) FROM h").fetchall() == [(1,)]  # M2/1 has one valid row
    # A collision: pretend the hash of M1/2 (one row) also came out of the first step.
    con.execute("INSERT INTO h SELECT hash('M1', '2')")
    keys = con.sql(duplicate_keys_sql(t, columns, "stage", "h")).fetchall()
    assert keys == [("M1", "1")]
