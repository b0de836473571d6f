"""``huiyan export`` writes CSV, Parquet or XLSX by extension, optionally with Chinese labels."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from huiyan.cli.main import app
from huiyan.engine import Store
from huiyan.model import label
from huiyan.model.tables import MEDINS, QUARANTINE

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "h.duckdb"
    with Store(path) as store:
        store.con.execute(
            "create table medins as select 'H' || i as medins_code, '医院' || i as medins_name, "
            "'3' as medins_lv, 'general' as medins_type, '370100' as admdvs from range(3) t(i)"
        )
    return path


def test_csv_has_bom_and_rows(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.csv"
    result = runner.invoke(app, ["export", "medins", "--db", str(db), "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_bytes()
    assert text.startswith(b"\xef\xbb\xbf")
    lines = text.decode("utf-8-sig").splitlines()
    assert lines[0].split(",") == MEDINS.columns and lines[2].startswith("H1,医院1")


def test_parquet_with_labels(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.parquet"
    result = runner.invoke(
        app, ["export", "medins", "--db", str(db), "--out", str(out), "--labels"]
    )
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert table.column_names == [f.label for f in MEDINS.fields]
    assert table.num_rows == 3


def test_xlsx_is_labelled_by_default_and_codes_on_request(db: Path, tmp_path: Path) -> None:
    # Issue 13: an auditor's workbook shows Chinese headers and labels, not codes, unless asked.
    out = tmp_path / "m.xlsx"
    assert (
        runner.invoke(app, ["export", "medins", "--db", str(db), "--out", str(out)]).exit_code == 0
    )
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_index(0).to_python()
    assert rows[0] == [f.label for f in MEDINS.fields] and rows[3][1] == "医院2"
    assert rows[1][3] == label("medins_type", "general") != "general"
    coded = tmp_path / "c.xlsx"
    result = runner.invoke(
        app, ["export", "medins", "--db", str(db), "--out", str(coded), "--codes"]
    )
    assert result.exit_code == 0, result.output
    rows = CalamineWorkbook.from_path(str(coded)).get_sheet_by_index(0).to_python()
    assert rows[0] == MEDINS.columns and rows[1][3] == "general"


def test_unknown_table_and_format_are_clear_errors(db: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["export", QUARANTINE.name, "--db", str(db), "--out", str(tmp_path / "q.csv")]
    )
    assert result.exit_code == 2 and "medins" in result.output
    result = runner.invoke(
        app, ["export", "medins", "--db", str(db), "--out", str(tmp_path / "m.json")]
    )
    assert result.exit_code == 2


@pytest.fixture
def people(tmp_path: Path) -> Path:
    path = tmp_path / "p.duckdb"
    with Store(path) as store:
        store.ensure("setl_list")
        store.con.execute(
            "insert into setl_list (setl_id, psn_no, psn_name, certno, coner_tel, medins_code, "
            "medfee_sumamt) values "
            "('S1', '37000012345', '张三', '370102198001011234', '13812345678', "
            "'=HYPERLINK(\"http://x\")', 1234567.5), "
            "('S2', '37000012345', '李四', null, null, '+cmd', -12.25)"
        )
    return path


def test_exports_are_desensitised_by_default(people: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    result = runner.invoke(app, ["export", "setl_list", "--db", str(people), "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_bytes().decode("utf-8-sig")
    for personal in ("张三", "370102198001011234", "13812345678", "37000012345"):
        assert personal not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["psn_name"] == "张*" and rows[0]["certno"] == "370***********1234"
    assert rows[0]["coner_tel"] == "*******5678"
    # one person, one pseudonym: both stays of the same insured person stay linked
    assert rows[0]["psn_no"] == rows[1]["psn_no"] and rows[0]["psn_no"].startswith("P")
    assert rows[0]["medfee_sumamt"] == "1234567.50" and rows[1]["medfee_sumamt"] == "-12.25"


def test_no_mask_writes_personal_data_as_stored(people: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    args = ["export", "setl_list", "--db", str(people), "--out", str(out), "--no-mask"]
    assert runner.invoke(app, args).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert rows[0]["psn_name"] == "张三" and rows[0]["psn_no"] == "37000012345"


def test_formulas_stay_text_in_csv(people: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    assert runner.invoke(app, ["export", "setl_list", "--db", str(people), "--out", str(out)])
    rows = list(csv.DictReader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert rows[0]["medins_code"] == '\'=HYPERLINK("http://x")'
    assert rows[1]["medins_code"] == "'+cmd"


def test_xlsx_is_readable_and_safe(people: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "s.xlsx"
    result = runner.invoke(app, ["export", "setl_list", "--db", str(people), "--out", str(out)])
    assert result.exit_code == 0, result.output
    ws = load_workbook(out).active
    heads = [c.value for c in ws[1]]
    assert heads[:3] == ["结算ID", "就诊ID", "人员编号"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref is not None
    code = ws.cell(row=2, column=heads.index("定点医药机构编号") + 1)
    assert code.data_type == "s" and code.value == '=HYPERLINK("http://x")' and code.quotePrefix
    money = ws.cell(row=2, column=heads.index("医疗费总额") + 1)
    assert money.value == 1234567.5 and money.number_format == "#,##0.00"
    assert ws.column_dimensions["A"].width >= len("结算ID")
    assert "张三" not in [c.value for c in ws[2]]
