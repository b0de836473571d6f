"""Extremes drill: values at the plausibility bounds of ingest go through every step.

Ingest quarantines anything beyond the bounds (kb/data/config/ingest.yaml); what it accepts,
every later step must process: a 25-year stay, a 1-yuan and a 100-million-yuan settlement,
a fee line of a million units, ages 0 and 150, catalogue age limits at both ends. The run
must complete and the extreme cases be grouped and priced.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from huiyan.engine import Store
from huiyan.kb import config
from huiyan.pipeline.context import RunContext
from huiyan.pipeline.runner import STEPS, run_steps
from huiyan.synth import generate

pytestmark = pytest.mark.slow

SETL_EXTREMES = [
    {"age": "150", "brdy": "1880-01-01", "adm_time": "2000-01-01 00:00:00",
     "act_ipt_days": "36600", "medfee_sumamt": "100000000.00",
     "fund_pay_sumamt": "100000000.00", "lv1_nurscare_days": "36600"},
    {"age": "0", "nwb_age_days": "0", "nwb_bir_wt": "10000", "nwb_adm_wt": "20000",
     "medfee_sumamt": "0.01", "fund_pay_sumamt": "0", "act_ipt_days": "0"},
    {"vent_used_dura": "1000000000", "pwcry_bfadm_coma_dura": "1000000000",
     "bld_amt": "1000000000", "diag_code_cnt": "1000", "oprn_oprt_code_cnt": "1000"},
]  # fmt: skip
FEE_EXTREMES = [
    {"cnt": "1000000", "pric": "100", "det_item_fee_sumamt": "100000000.00",
     "fee_ocur_time": "2037-12-31 23:59:59"},
    {"cnt": "0.0001", "pric": "10000000", "det_item_fee_sumamt": "1000.00",
     "fee_ocur_time": "2000-01-01 00:00:00"},
]  # fmt: skip
HILIST_EXTREMES = [{"lmt_age_min": "0", "lmt_age_max": "150", "max_days": "36600"}]


def _edit(path: Path, edits: list[dict[str, str]]) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        header, rows = list(reader.fieldnames or []), list(reader)
    for row, edit in zip(rows, edits, strict=False):
        row.update({k: v for k, v in edit.items() if k in header})
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return rows[: len(edits)]


def _run(tmp_path: Path, steps: tuple[str, ...]) -> None:
    data = tmp_path / "data"
    generate(data, cases=200, seed=5, violation_rate=0.1, labels_dir=tmp_path / "labels")
    setl = _edit(data / "setl_list.csv", SETL_EXTREMES)
    _edit(data / "feedetail.csv", FEE_EXTREMES)
    _edit(data / "hilist.csv", HILIST_EXTREMES)
    with Store(tmp_path / "x.duckdb") as store:
        ctx = RunContext(engine=store, config=config.load(None), data_dir=data, show_progress=False)
        reports = run_steps(ctx, steps)
        assert [r.step for r in reports] == list(steps)
        ids = [r["setl_id"] for r in setl]
        marks = ", ".join("?" for _ in ids)
        assert store.con.sql(
            "select count(*) from quarantine where table_name in ('setl_list', 'feedetail', "
            "'hilist') and reason_code = 'implausible'"
        ).fetchall() == [(0,)]
        stored = store.con.sql(
            f"select count(*) from setl_list where setl_id in ({marks})", params=ids
        ).fetchall()[0][0]
        grouped = store.con.sql(
            f"select count(distinct setl_id) from drg_result where setl_id in ({marks})",
            params=ids,
        ).fetchall()[0][0]
        assert stored == grouped == len(ids)
        assert store.count("qc_indicator") > 0
        if "price" in steps:
            assert store.count("payment") > 0


def test_steps_but_pricing_complete_on_values_at_the_bounds(tmp_path: Path) -> None:
    _run(tmp_path, tuple(s for s in STEPS if s != "price"))


def test_whole_pipeline_completes_on_values_at_the_bounds(tmp_path: Path) -> None:
    _run(tmp_path, STEPS)
