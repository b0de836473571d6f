"""The pipeline step on a store, and the scheme-change report."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
from grouping_helpers import sample_path
from typer.testing import CliRunner

from huiyan.cli.main import app
from huiyan.grouping import diff_schemes, group_table
from huiyan.grouping.store_cases import cases_from_store
from huiyan.pipeline.context import RunContext
from huiyan.pipeline.steps import group as group_step


def _fill(store) -> None:
    t = datetime(2024, 3, 1, 9)
    store.write(
        "setl_list",
        pa.table(
            {
                "setl_id": ["S1", "S2", "S3"],
                "gend": ["2", "1", "1"],
                "age": [19, 69, 0],
                "nwb_age_days": pa.array([None, None, 2], pa.int32()),
                "nwb_bir_wt": pa.array([None, None, 1400], pa.int32()),
                "adm_time": [t, t, t],
                "dscg_time": [datetime(2024, 3, 4, 10), t, datetime(2024, 3, 20)],
                "dscg_way": ["1", "1", "1"],
            }
        ),
    )
    # S1 is sample case S000002 (KR19) with its diagnoses stored out of order
    store.write(
        "diseinfo",
        pa.table(
            {
                "setl_id": ["S1", "S1", "S2", "S3"],
                "diag_srt_no": [2, 1, 1, 1],
                "diag_code": ["I24.000x004", "D09.302", "I21.000", "P07.100"],
                "maindiag_flag": ["0", "1", "1", "1"],
            }
        ),
    )
    store.write(
        "oprninfo",
        pa.table({"setl_id": ["S2"], "oprn_srt_no": [1], "oprn_oprt_code": ["36.0700"]}),
    )


def test_cases_from_store_orders_codes_and_computes_los(store):
    _fill(store)
    rows = {r["case_id"]: r for r in cases_from_store(store).to_pylist()}
    assert rows["S1"]["diagnoses"] == ["D09.302", "I24.000x004"]
    assert rows["S1"]["los"] == 3 and rows["S2"]["los"] == 1  # same day counts as 1
    assert rows["S1"]["procedures"] is None and rows["S2"]["procedures"] == ["36.0700"]
    assert rows["S3"]["age_days"] == 2 and rows["S3"]["birth_weight"] == 1400


def test_step_writes_drg_result_and_replaces_on_rerun(store):
    _fill(store)
    ctx = RunContext(
        engine=store,
        config={"grouping": {"schemes": ["chs-drg-1.1", "chs-drg-1.0"], "mode": "raw"}},
    )
    report = group_step.run(ctx)
    assert report.rows["drg_result"] == 6
    group_step.run(ctx)
    assert store.count("drg_result") == 6
    got = store.con.sql(
        "select status, mdc, adrg, drg from drg_result where setl_id='S1' and scheme='chs-drg-1.1'"
    ).fetchall()
    assert got == [("SUCCESS", "MDCK", "KR1", "KR19")]
    # the step's results equal the batch path on the same cases
    direct = group_table(cases_from_store(store), "chs-drg-1.0").to_pylist()
    stored = dict(
        store.con.sql("select setl_id, drg from drg_result where scheme='chs-drg-1.0'").fetchall()
    )
    assert {r["case_id"]: r["drg"] for r in direct} == stored


def test_diff_lists_changed_cases_with_reason(samples):
    cases, _ = samples["chs-drg-1.1"]
    changes = diff_schemes(cases, "chs-drg-1.1", "liaocheng-2022").to_pylist()
    a = {r["case_id"]: r["drg"] for r in group_table(cases, "chs-drg-1.1").to_pylist()}
    b = {r["case_id"]: r["drg"] for r in group_table(cases, "liaocheng-2022").to_pylist()}
    assert {c["case_id"] for c in changes} >= {k for k in a if a[k] != b[k]}
    assert all(c["reason"] for c in changes)
    assert {c["change"] for c in changes} <= {"status", "mdc", "adrg", "drg"}
    assert any("并发症认定不同" in c["reason"] or "ADRG规则不同" in c["reason"] for c in changes)


def test_cli_group_and_diff(tmp_path, store):
    src = sample_path("chs-drg-1.1").read_text("utf-8").splitlines()
    cases = tmp_path / "cases.csv"
    cases.write_text("\n".join(",".join(line.split(",")[:10]) for line in src[:51]) + "\n", "utf-8")
    out = tmp_path / "out.csv"
    runner = CliRunner()
    res = runner.invoke(
        app,
        ["group", "--scheme", "chs-drg-1.1", "--cases", str(cases), "--out", str(out), "--explain"],
    )
    assert res.exit_code == 0, res.output
    lines = out.read_text("utf-8-sig").splitlines()
    header = '"case_id","status","mdc","adrg","drg","drg_name","trace"'
    assert lines[0] == header and len(lines) == 51
    _fill(store)
    store.close()
    diff_csv = tmp_path / "diff.csv"
    res = runner.invoke(
        app,
        [
            "group",
            "diff",
            "--from",
            "chs-drg-1.1",
            "--to",
            "chs-drg-1.0",
            "--db",
            str(store.path),
            "--out",
            str(diff_csv),
        ],
    )
    assert res.exit_code == 0, res.output
    assert diff_csv.read_bytes().decode("utf-8").startswith("\ufeff" + '"case_id","from_status"')


def test_step_groups_with_regional_schemes(store):
    _fill(store)
    schemes = ["zhejiang-2022", "yunnan-2022", "changzhou-2022"]
    ctx = RunContext(engine=store, config={"grouping": {"schemes": schemes, "mode": "raw"}})
    group_step.run(ctx)
    cases = cases_from_store(store)
    assert {"dept", "discharge_way"} <= set(cases.column_names)  # regional tests read them
    for scheme in schemes:
        want = sorted(
            tuple(r.values())
            for r in group_table(cases, scheme)
            .select(["case_id", "status", "mdc", "adrg", "drg"])
            .to_pylist()
        )
        got = store.con.sql(
            "select setl_id, status, mdc, adrg, drg from drg_result "
            f"where scheme = '{scheme}' order by setl_id"
        ).fetchall()
        assert sorted(got) == want and len(got) == 3
    # Yunnan writes its own failure code (0000A), never the national 0000
    yunnan = dict(
        store.con.sql("select setl_id, drg from drg_result where scheme='yunnan-2022'").fetchall()
    )
    assert all(d != "0000" for d in yunnan.values())
