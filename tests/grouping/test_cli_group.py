"""``huiyan group``: one case on screen with its DRG name and trace; files with drg_name."""

from __future__ import annotations

import csv

from grouping_helpers import sample_path
from typer.testing import CliRunner

from huiyan.cli.main import app

ENV = {"COLUMNS": "200"}
SAMPLE = sample_path("zhejiang-2022")


def _expected(case_id: str) -> dict[str, str]:
    with SAMPLE.open(encoding="utf-8") as fh:
        return next(r for r in csv.DictReader(fh) if r["case_id"] == case_id)


def test_one_case_on_screen_with_name_and_trace():
    ref = _expected("S000005")
    res = CliRunner().invoke(
        app,
        ["group", "--scheme", "zhejiang-2022", "--cases", str(SAMPLE), "--case", "S000005"]
        + ["--explain"],
        env=ENV,
    )
    assert res.exit_code == 0, res.output
    assert ref["drg"] in res.output and ref["status"] == "SUCCESS"
    assert "头颈、耳、鼻、咽、口恶性肿瘤" in res.output  # the DRG's name in drgs.tsv
    assert f"进入 {ref['mdc']}" in res.output and f"ADRG {ref['adrg']}" in res.output


def test_output_file_carries_drg_names(tmp_path):
    out = tmp_path / "out.csv"
    res = CliRunner().invoke(
        app, ["group", "--scheme", "zhejiang-2022", "--cases", str(SAMPLE), "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    # UTF-8 with a BOM: Excel on a Chinese Windows otherwise shows the names garbled.
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    with out.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 1000
    with SAMPLE.open(encoding="utf-8") as fh:
        ref = {r["case_id"]: r["drg"] for r in csv.DictReader(fh)}
    assert all(r["drg"] == ref[r["case_id"]] for r in rows)
    named = [r for r in rows if r["status"] == "SUCCESS" and len(r["drg"]) == 4]
    assert named and all(r["drg_name"] for r in named)
    assert all(r["drg_name"] == "" for r in rows if r["status"] != "SUCCESS")


def test_many_cases_need_an_output_file_and_unknown_case_is_named():
    res = CliRunner().invoke(app, ["group", "--cases", str(SAMPLE)])
    assert res.exit_code != 0 and "--out" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(app, ["group", "--cases", str(SAMPLE), "--case", "NOPE"])
    assert res.exit_code != 0 and "NOPE" in res.output and "Traceback" not in res.output
