"""Each reader and encoding loads the same rows."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xlsxwriter
from tests.ingest.builders import DISE, SETL, write_csv, write_dataset

from huiyan.engine import Store
from huiyan.errors import InputError
from huiyan.ingest import ingest
from huiyan.ingest.readers import csv_buffer_bytes


def _names(store: Store) -> list[str]:
    return [
        r[0]
        for r in store.con.sql(
            "select diag_name from diseinfo order by setl_id, diag_srt_no"
        ).fetchall()
    ]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings_are_detected(store: Store, data_dir: Path, encoding: str) -> None:
    write_dataset(data_dir)
    write_csv(data_dir / "diseinfo.csv", DISE, encoding=encoding)
    report = ingest(data_dir, store)
    assert report.tables["diseinfo"].accepted == len(DISE)
    assert _names(store) == [
        r["diag_name"] for r in sorted(DISE, key=lambda r: (r["setl_id"], r["diag_srt_no"]))
    ]
    enc = store.con.sql(
        "select encoding from ingest_batch where table_name = 'diseinfo'"
    ).fetchall()[0][0]
    assert enc == ("gb18030" if encoding.startswith("gb") else encoding)


@pytest.mark.parametrize("delimiter", ["\t", "|", ";"])
def test_delimiters_are_detected(store: Store, data_dir: Path, delimiter: str) -> None:
    write_dataset(data_dir)
    write_csv(data_dir / "setl_list.csv", SETL, delimiter=delimiter)
    report = ingest(data_dir, store)
    assert report.tables["setl_list"].accepted == len(SETL)
    assert store.con.sql("select sum(medfee_sumamt) from setl_list").fetchall()[0][
        0
    ] == pytest.approx(5 * 12000.50)


def test_parquet(store: Store, data_dir: Path) -> None:
    write_dataset(data_dir)
    (data_dir / "setl_list.csv").unlink()
    table = pa.table({k: [r[k] for r in SETL] for k in SETL[0]})
    table = table.set_column(
        table.column_names.index("age"), "age", table.column("age").cast(pa.int64())
    )
    pq.write_table(table, data_dir / "setl_list.parquet")
    report = ingest(data_dir, store)
    assert report.tables["setl_list"].accepted == len(SETL)
    assert store.con.sql("select max(age) from setl_list").fetchall()[0][0] == 35


def test_xlsx_with_aliases_and_numbers(store: Store, data_dir: Path) -> None:
    write_dataset(data_dir)
    (data_dir / "setl_list.csv").unlink()
    with xlsxwriter.Workbook(str(data_dir / "setl_list.xlsx")) as wb:
        ws = wb.add_worksheet()
        header = ["fixmedins_code" if k == "medins_code" else k for k in SETL[0]]
        ws.write_row(0, 0, header)
        for i, r in enumerate(SETL, start=1):
            ws.write_row(
                i, 0, [float(v) if k in ("age", "medfee_sumamt") else v for k, v in r.items()]
            )
    report = ingest(data_dir, store)
    assert report.tables["setl_list"].accepted == len(SETL)
    assert store.con.sql(
        "select distinct medins_code, max(age) from setl_list group by 1"
    ).fetchall() == [("H37010001", 35)]


def test_national_interface_messages(store: Store, data_dir: Path) -> None:
    write_dataset(data_dir, setl_list=[], diseinfo=[], oprninfo=[], feedetail=[])
    msg_4101a = {
        "setlinfo": {
            "setl_id": "S9",
            "mdtrt_id": "M9",
            "psn_no": "P9",
            "fixmedins_code": "H37010001",
            "hi_type": "390",
            "ipt_med_type": "21",
            "adm_time": "2024-05-01 08:00:00",
            "dscg_time": "2024-05-06 09:00:00",
            "medfee_sumamt": 8800.5,
            "gend": "2",
        },
        "diseinfo": [
            {"diag_code": "o80.000", "diag_name": "单胎顺产", "maindiag_flag": "1"},
            {"diag_code": "Z37.000", "diag_name": "单胎活产", "maindiag_flag": "0"},
        ],
        "oprninfo": [{"oprn_oprt_code": "73.5900", "oprn_oprt_name": "人工助产"}],
    }
    msg_2301 = {
        "input": {
            "feedetail": [
                {
                    "feedetl_sn": "1",
                    "mdtrt_id": "M9",
                    "fee_ocur_time": "2024-05-01 09:00:00",
                    "med_list_codg": "001102000050000",
                    "cnt": 1,
                    "pric": 50,
                    "det_item_fee_sumamt": 50,
                },
            ]
        }
    }
    (data_dir / "upload.jsonl").write_text(
        json.dumps(msg_4101a, ensure_ascii=False) + "\n" + json.dumps(msg_2301) + "\n{broken\n",
        encoding="utf-8",
    )
    report = ingest(data_dir, store)
    assert report.tables["setl_list"].accepted == 1
    assert report.tables["setl_list"].quarantined == 1  # the broken line, with its line number
    assert store.con.sql("select row_number, reason_code from quarantine").fetchall() == [
        (3, "malformed")
    ]
    assert store.con.sql("select insutype, med_type, medins_code from setl_list").fetchall() == [
        ("390", "21", "H37010001")
    ]
    assert store.con.sql("select diag_srt_no, diag_code from diseinfo order by 1").fetchall() == [
        (1, "O80.000"),
        (2, "Z37.000"),
    ]
    assert report.tables["oprninfo"].accepted == 1
    assert report.tables["feedetail"].accepted == 1


def test_knowledge_folder_tables(store: Store, data_dir: Path) -> None:
    write_dataset(data_dir)
    write_csv(
        data_dir / "knowledge" / "diag_exclusive.csv",
        [{"diag_prefix_a": "E10", "diag_prefix_b": "E11"}],
    )
    report = ingest(data_dir, store)
    assert report.tables["diag_exclusive"].accepted == 1
    assert store.con.sql("select * from diag_exclusive").fetchall() == [("E10", "E11")]


def test_unknown_files_and_columns_are_reported(store: Store, data_dir: Path) -> None:
    write_dataset(data_dir)
    write_csv(data_dir / "setl_list.csv", [r | {"hosp_note": "x"} for r in SETL])
    (data_dir / "readme.txt").write_text("not data")
    report = ingest(data_dir, store)
    assert [p.endswith("readme.txt") for p in report.unknown_files] == [True]
    assert any("hosp_note" in n for n in report.notes)
    assert report.tables["setl_list"].accepted == len(SETL)


def test_missing_folder_is_an_input_error(store: Store, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        ingest(tmp_path / "nope", store)


def test_crlf_line_ends_and_quoted_fields(store: Store, data_dir: Path) -> None:
    write_dataset(data_dir)
    rows = [dict(r) for r in DISE]
    rows[0]["diag_name"] = '急性心肌梗死, "前壁"'
    path = write_csv(data_dir / "diseinfo.csv", rows)
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    report = ingest(data_dir, store)
    assert report.tables["diseinfo"].accepted == len(DISE)
    assert ('急性心肌梗死, "前壁"',) in store.con.sql("select diag_name from diseinfo").fetchall()


def test_csv_buffers_are_large_but_many_to_a_file() -> None:
    mib = 1024 * 1024
    assert csv_buffer_bytes(1_000) == 32 * mib  # DuckDB's default for small files
    assert csv_buffer_bytes(147_000_000) == 32 * mib  # settlements of 1M cases: ~5 buffers
    assert csv_buffer_bytes(600 * mib) == 75 * mib  # eight buffers
    assert csv_buffer_bytes(1_128_000_000) == 128 * mib  # 30M fee lines: the cap
