from __future__ import annotations

import pyarrow.parquet as pq
import typer
from typer.testing import CliRunner

from huiyan.cli import kb

app = typer.Typer()
kb.register(app)


@app.callback()
def _root() -> None:
    """Test root."""


runner = CliRunner()


def test_info_lists_data_sets_and_tables():
    res = runner.invoke(app, ["kb", "info"])
    assert res.exit_code == 0, res.output
    assert "nhsa-lk" in res.output and "dx_evidence" in res.output and "14,340" in res.output


def test_lookup_names_the_drug_and_its_restriction():
    res = runner.invoke(app, ["kb", "lookup", "XL02BBA326A001010102180"])
    assert res.exit_code == 0, res.output
    assert "阿帕他胺片" in res.output and "item_restriction" in res.output


def test_lookup_diagnosis_shows_evidence_and_exclusions():
    res = runner.invoke(app, ["kb", "lookup", "E11.900"])
    assert res.exit_code == 0
    assert "2型糖尿病" in res.output and "diag_exclusive" in res.output


def test_verify_passes():
    res = runner.invoke(app, ["kb", "verify"])
    assert res.exit_code == 0, res.output


def test_export_parquet_and_unknown(tmp_path):
    out = tmp_path / "ir.parquet"
    res = runner.invoke(app, ["kb", "export", "surgery_discount", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert pq.read_table(out).num_rows == 378
    bad = runner.invoke(app, ["kb", "export", "nope", "--out", str(tmp_path / "x.csv")])
    assert bad.exit_code == 2
