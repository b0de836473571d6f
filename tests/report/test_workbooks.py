"""QC and payment workbooks: Chinese, safe file names, data never becomes a formula."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pyarrow as pa
from openpyxl import load_workbook

from huiyan.model.qc_tables import QC_INDICATOR
from huiyan.model.tables import QC_ISSUE
from huiyan.report.qc_workbook import write_all
from huiyan.report.tabular import Sheet, display_width, write_csv, write_xlsx

EVIL = '=HYPERLINK("http://x","点我")'


def _issues(code: str) -> pa.Table:
    row = {
        "setl_id": "S1",
        "medins_code": code,
        "check_id": "QC-C001",
        "field": "psn_name",
        "value": EVIL,
        "message": "+cmd|' /C calc'!A0",
        "severity": "error",
    }
    return QC_ISSUE.conform(pa.Table.from_pylist([row]))


def _indicators(code: str) -> pa.Table:
    row = {
        "medins_code": code,
        "period": "2025-01",
        "indicator": "completeness_rate",
        "numerator": 9,
        "denominator": 10,
        "rate": 0.9,
    }
    return QC_INDICATOR.conform(pa.Table.from_pylist([row]))


def test_institution_codes_cannot_leave_the_output_folder(tmp_path: Path) -> None:
    out = tmp_path / "qc"
    paths = write_all(out, _issues("../../H1"), _indicators("../../H1"), {"../../H1": EVIL})
    assert [p.parent for p in paths] == [out]
    assert paths[0].name == "质控报告__.._H1.xlsx"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["qc"]


def test_qc_workbook_cells_stay_text(tmp_path: Path) -> None:
    (path,) = write_all(tmp_path, _issues("H1"), _indicators("H1"), {"H1": EVIL})
    wb = load_workbook(path)
    title = wb["指标汇总"]["A1"]
    assert title.data_type == "s" and title.value.startswith(EVIL)
    issues = wb["质控问题"]
    values = [c for c in issues[2] if c.value == EVIL or str(c.value).startswith("+cmd")]
    assert len(values) == 2 and all(c.data_type == "s" for c in values)
    assert issues.freeze_panes == "A2" and issues.auto_filter.ref


def test_xlsx_writer_keeps_numbers_numbers_and_fits_widths(tmp_path: Path) -> None:
    data = pa.table(
        {
            "机构名称": ["慧眼市第一人民医院", "-"],
            "金额": pa.array([Decimal("1234567.50"), Decimal("-3")], pa.decimal128(16, 2)),
            "病例数": pa.array([12000, 3], pa.int64()),
        }
    )
    path = write_xlsx(tmp_path / "w.xlsx", [Sheet("表/1", data)])
    ws = load_workbook(path).active
    assert ws.title == "表_1"
    assert ws["B2"].value == 1234567.5 and ws["B2"].number_format == "#,##0.00"
    assert ws["C2"].value == 12000 and ws["C2"].number_format == "#,##0"
    assert ws["A3"].value == "-" and ws["A3"].quotePrefix
    assert ws.column_dimensions["A"].width >= display_width("慧眼市第一人民医院")


def test_csv_writer_has_a_bom_and_inert_text(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "x.csv", pa.table({"a": [EVIL, "张三", None], "n": [-1, 2, 3]}))
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[1] == '"\'=HYPERLINK(""http://x"",""点我"")",-1'
    assert lines[2] == '"张三",2'


def test_dashboard_downloads_keep_data_as_text(tmp_path: Path) -> None:
    from huiyan.service.web.tables import Col, TableData, xlsx_bytes

    data = TableData(
        key="t",
        title="机构",
        cols=[Col("name", "机构名称"), Col("amt", "金额", "money")],
        rows=[{"name": EVIL, "amt": Decimal("1234.50")}, {"name": "http://x", "amt": 1}],
    )
    path = tmp_path / "d.xlsx"
    path.write_bytes(xlsx_bytes(data))
    ws = load_workbook(path).active
    assert ws["A2"].data_type == "s" and ws["A2"].value == EVIL
    assert ws["A3"].hyperlink is None and ws["B2"].value == 1234.5
