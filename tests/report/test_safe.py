"""report.safe: masking by Field.privacy, keyed pseudonyms, inert formulas, safe file names."""

from __future__ import annotations

from datetime import date

import duckdb
import pyarrow as pa
import pytest

from huiyan.engine import Store
from huiyan.model import TABLES
from huiyan.report.safe import (
    mask_sql,
    mask_table,
    mask_value,
    neutralise,
    neutralise_sql,
    personal_columns,
    pseudonym,
    safe_filename,
    store_key,
)

SAMPLES = {
    "name": ["张三", "欧阳娜娜", "李", "", None],
    "id": ["370102198001011234", "37010219800101123X", "1234567", "", None],
    "phone": ["13812345678", "0531-8888", "123", None],
    "address": ["山东省济南市历下区泉城路1号", "济南", None],
    "person": ["37000012345", "P1", None],
}


def test_personal_fields_are_declared_on_the_model() -> None:
    setl = TABLES["setl_list"]
    assert personal_columns(setl.columns, "setl_list") == {
        "psn_no": "person",
        "psn_name": "name",
        "brdy": "birthdate",
        "certno": "id",
        "curr_addr": "address",
        "emp_addr": "address",
        "emp_tel": "phone",
        "coner_name": "name",
        "coner_addr": "address",
        "coner_tel": "phone",
        "hi_no": "id",
    }
    assert personal_columns(TABLES["finding"].columns, "finding") == {"psn_no": "person"}
    assert personal_columns(["setl_id", "medins_code", "psn_name"]) == {"psn_name": "name"}


def test_masks() -> None:
    assert mask_value("name", "张三") == "张*"
    assert mask_value("id", "370102198001011234") == "370***********1234"
    assert mask_value("phone", "13812345678") == "*******5678"
    assert mask_value("address", "山东省济南市历下区泉城路1号") == "山东省济南市***"
    assert mask_value("birthdate", date(1980, 5, 17)) == "1980"
    assert mask_value("name", None) is None


def test_pseudonyms_are_keyed_stable_and_not_the_number() -> None:
    a = pseudonym("37000012345", "k1")
    assert a == pseudonym("37000012345", "k1") != pseudonym("37000012345", "k2")
    assert a != pseudonym("37000012346", "k1")
    assert a.startswith("P") and len(a) == 17 and "37000012345" not in a


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_sql_and_python_masks_agree(kind: str) -> None:
    con = duckdb.connect()
    values = SAMPLES[kind]
    con.execute("create table t (v varchar)")
    con.executemany("insert into t values (?)", [[v] for v in values])
    got = [r[0] for r in con.sql(f"select {mask_sql(kind, 'v', 'secret')} from t").fetchall()]
    assert got == [mask_value(kind, v, "secret") for v in values]


def test_store_key_is_created_once_and_kept(store: Store) -> None:
    key = store_key(store)
    assert len(key) == 64 and store_key(store) == key


def test_mask_table_keeps_other_columns() -> None:
    t = pa.table({"setl_id": ["S1"], "psn_name": ["王小明"], "psn_no": ["9"]})
    masked = mask_table(t, "k", "setl_list")
    assert masked.to_pylist() == [
        {"setl_id": "S1", "psn_name": "王**", "psn_no": pseudonym("9", "k")}
    ]


@pytest.mark.parametrize(
    "text", ['=HYPERLINK("http://x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx"]
)
def test_formula_like_text_is_neutralised(text: str) -> None:
    assert neutralise(text) == "'" + text
    con = duckdb.connect()
    con.execute("create table t (v varchar)")
    con.execute("insert into t values (?)", [text])
    assert con.sql(f"select {neutralise_sql('v')} from t").fetchall() == [("'" + text,)]


def test_ordinary_text_is_left_alone() -> None:
    for text in ("张三", "A01.100", "1,234", "", "a=b"):
        assert neutralise(text) == text


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("H001", "H001"),
        ("../../etc", "_.._etc"),
        ("a/b\\c", "a_b_c"),
        ("x*?", "x_"),
        ("..", "未命名"),
    ],
)
def test_file_names_stay_in_their_folder(raw: str, safe: str) -> None:
    assert safe_filename(raw) == safe
    assert "/" not in safe_filename(raw) and not safe_filename(raw).startswith(".")
