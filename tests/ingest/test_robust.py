"""Odd files an operator meets: line ends, encodings, shifted fields, malformed messages, huge
workbooks. No valid row is lost or garbled, no traceback: a clear error or a quarantined row."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from tests.ingest.builders import DISE, SETL, quarantined, write_csv, write_dataset

from huiyan.engine import Store
from huiyan.errors import InputError
from huiyan.ingest import ingest

NAMES = sorted(r["diag_name"] for r in DISE)


def _names(store: Store) -> list[str]:
    return sorted(r[0] for r in store.con.sql("select diag_name from diseinfo").fetchall())


def _dise_bytes(encoding: str = "utf-8", end: str = "\n") -> bytes:
    lines = [",".join(DISE[0])] + [",".join(r.values()) for r in DISE]
    return end.join(lines).encode(encoding) + end.encode(encoding)


@pytest.mark.parametrize(
    "ends",
    [["\r"], ["\r\n"], ["\n"], ["\n", "\r\n"], ["\r\n", "\r", "\n"], ["\r", "\n"]],
    ids=["cr", "crlf", "lf", "lf+crlf", "all", "cr+lf"],
)
@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_every_line_end_and_mixture(
    store: Store, data_dir: Path, ends: list[str], encoding: str
) -> None:
    write_dataset(data_dir)
    lines = [",".join(DISE[0])] + [",".join(r.values()) for r in DISE]
    text = "".join(line + ends[i % len(ends)] for i, line in enumerate(lines))
    (data_dir / "diseinfo.csv").write_bytes(text.encode(encoding))
    report = ingest(data_dir, store)
    c = report.tables["diseinfo"]
    assert (c.read, c.accepted, c.quarantined) == (len(DISE), len(DISE), 0)
    assert _names(store) == NAMES


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "big5", "gb18030"])
def test_wide_and_traditional_encodings(store: Store, data_dir: Path, encoding: str) -> None:
    write_dataset(data_dir)
    dise = [r | {"diag_name": r["diag_name"].replace("阑", "闌")} for r in DISE]
    if encoding == "utf-16-le":  # Excel's "Unicode text": tab-separated, BOM, CRLF
        write_csv(data_dir / "diseinfo.csv", dise, encoding="utf-16", delimiter="\t")
    else:
        write_csv(data_dir / "diseinfo.csv", dise, encoding=encoding)
    ingest(data_dir, store)
    assert _names(store) == sorted(r["diag_name"] for r in dise)


def test_gbk_after_a_long_ascii_head_is_not_taken_for_another_encoding(
    store: Store, data_dir: Path
) -> None:
    setl = [dict(SETL[0]) | {"setl_id": f"S{i}", "mdtrt_id": f"M{i}"} for i in range(1, 6001)]
    dise = [
        {"setl_id": f"S{i}", "diag_srt_no": "1", "diag_code": "I21.000", "diag_name": "ascii" * 9}
        for i in range(1, 6001)
    ]
    dise[5990]["diag_name"] = "急性前壁心肌梗死"
    dise[5999]["diag_name"] = "肺炎"
    write_dataset(data_dir, setl_list=setl)
    write_csv(data_dir / "diseinfo.csv", dise, encoding="gbk")
    assert (data_dir / "diseinfo.csv").stat().st_size > 256 * 1024
    report = ingest(data_dir, store)
    assert report.tables["diseinfo"].accepted == 6000
    got = store.con.sql(
        "select diag_name from diseinfo where diag_name not like 'ascii%' order by 1"
    )
    assert sorted(r[0] for r in got.fetchall()) == sorted(["急性前壁心肌梗死", "肺炎"])


def test_shift_jis_is_refused_naming_the_file(store: Store, data_dir: Path) -> None:
    write_dataset(data_dir)
    dise = [r | {"diag_name": "ひらがなとカタカナの病名です"} for r in DISE]
    write_csv(data_dir / "diseinfo.csv", dise, encoding="cp932")
    with pytest.raises(InputError, match="diseinfo.csv.*UTF-8"):
        ingest(data_dir, store)


def test_invalid_byte_does_not_swallow_the_next_row(store: Store, data_dir: Path) -> None:
    write_dataset(data_dir)
    lines = _dise_bytes("gb18030").split(b"\n")
    name = DISE[1]["diag_name"].encode("gb18030")
    lines[2] = lines[2].replace(name, name + b"\x81")  # a lone lead byte before the delimiter
    (data_dir / "diseinfo.csv").write_bytes(b"\n".join(lines))
    report = ingest(data_dir, store)
    c = report.tables["diseinfo"]
    assert c.read == len(DISE) == c.accepted + c.quarantined
    assert quarantined(store, "diseinfo") == [(2, None, "encoding")]
    assert len(_names(store)) == len(DISE) - 1


def test_stray_delimiter_with_an_empty_last_field_does_not_shift(
    store: Store, data_dir: Path
) -> None:
    write_dataset(data_dir)
    rows = [dict(r) for r in DISE]
    for r in rows:
        r["maindiag_flag"] = ""
    path = write_csv(data_dir / "diseinfo.csv", rows)
    lines = path.read_text().split("\n")
    lines[2] = lines[2].replace("I21.000,", "I21.000,X,", 1).replace("E11.900,", "E11.900,X,", 1)
    lines[3] = lines[3].rstrip(",")[: lines[3].rstrip(",").rfind(",")]  # a field too few
    path.write_text("\n".join(lines))
    ingest(data_dir, store)
    assert quarantined(store, "diseinfo") == [(2, None, "column_count"), (3, None, "column_count")]
    assert store.count("diseinfo") == len(DISE) - 2
    assert store.con.sql("select count(*) from diseinfo where diag_name = 'X'").fetchall() == [(0,)]


def _message_dir(data_dir: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    write_dataset(data_dir, setl_list=[], diseinfo=[], oprninfo=[], feedetail=[])
    (data_dir / "upload.jsonl").write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return data_dir


def _msg(setl_id: str, name: str = "肺炎", **extra: object) -> str:
    body = {
        "setlinfo": SETL[0] | {"setl_id": setl_id, "mdtrt_id": "M" + setl_id},
        "diseinfo": [{"diag_code": "J18.900", "diag_name": name, "maindiag_flag": "1"}],
    } | extra
    return json.dumps(body, ensure_ascii=False)


@pytest.mark.parametrize(
    "value",
    [{"diag_code": "J18.900"}, "J18.900", 5, [None, None], [1, 2]],
    ids=["object", "string", "number", "nulls", "numbers"],
)
def test_message_lists_of_the_wrong_shape_are_quarantined(
    store: Store, data_dir: Path, value: object
) -> None:
    _message_dir(data_dir, [_msg("S1"), _msg("S2", diseinfo=value), _msg("S3")])
    report = ingest(data_dir, store)
    assert report.tables["setl_list"].accepted == 2
    assert quarantined(store, "setl_list") == [(2, None, "malformed")]


def test_deeply_nested_message_is_quarantined(store: Store, data_dir: Path) -> None:
    _message_dir(data_dir, [_msg("S1"), "[" * 100_000 + "]" * 100_000, _msg("S3")])
    report = ingest(data_dir, store)
    assert report.tables["setl_list"].accepted == 2
    assert quarantined(store, "setl_list") == [(2, None, "malformed")]


def test_gbk_message_file_and_line_separator_in_a_value(store: Store, data_dir: Path) -> None:
    _message_dir(data_dir, [_msg("S1", "急性\u2028肺炎"), _msg("S2", "心肌梗死")], "gb18030")
    report = ingest(data_dir, store)
    assert report.tables["setl_list"].accepted == 2
    assert _names(store) == sorted(["急性\u2028肺炎", "心肌梗死"])


def test_workbook_naming_a_far_cell_is_refused_before_reading(store: Store, data_dir: Path) -> None:
    write_dataset(data_dir)
    (data_dir / "setl_list.csv").unlink()
    with xlsxwriter.Workbook(str(data_dir / "setl_list.xlsx")) as wb:
        ws = wb.add_worksheet()
        ws.write_row(0, 0, list(SETL[0]))
        ws.write(1048575, 16383, "x")
    assert (data_dir / "setl_list.xlsx").stat().st_size < 10_000
    with pytest.raises(InputError, match="setl_list.xlsx.*1,048,576"):
        ingest(data_dir, store)


def test_workbook_that_is_not_a_zip_is_an_input_error(store: Store, data_dir: Path) -> None:
    write_dataset(data_dir)
    (data_dir / "setl_list.csv").unlink()
    (data_dir / "setl_list.xlsx").write_bytes(b"not a workbook")
    with pytest.raises(InputError, match="setl_list.xlsx"):
        ingest(data_dir, store)
    assert zipfile.is_zipfile(data_dir / "setl_list.xlsx") is False


def test_unreadable_file_is_an_input_error(
    store: Store, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As root every file is readable: the permission error is raised where the file is read.
    from huiyan.ingest import run

    def denied(path: Path) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(run, "scan", denied)
    write_dataset(data_dir)
    with pytest.raises(InputError, match=r"medins.csv: .*Permission denied"):
        ingest(data_dir, store)


def test_newline_inside_a_quoted_value(store: Store, data_dir: Path) -> None:
    # A quoted newline with the field-count check (null_padding) is read on one thread.
    write_dataset(data_dir)
    rows = [dict(r) for r in DISE]
    rows[1]["diag_name"] = "2型\n糖尿病"
    path = write_csv(data_dir / "diseinfo.csv", rows)
    assert '"2型\n糖尿病"'.encode() in path.read_bytes()
    report = ingest(data_dir, store)
    assert report.tables["diseinfo"].accepted == len(DISE)
    assert "2型\n糖尿病" in _names(store)
