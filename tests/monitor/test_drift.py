"""``synth --drift``: each kind changes the data of its subject from its start month only, and
(slow) the monitor warns every drift and not the decoy."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import pytest

from huiyan.engine import Store
from huiyan.kb import config
from huiyan.monitor.recall import evaluate_drifts
from huiyan.pipeline.context import RunContext
from huiyan.pipeline.runner import STEPS, run_steps
from huiyan.synth import generate
from huiyan.synth.drift import UPCODE_DX, plant_drifts


def _stats(folder: Path, subject_sql: str, start: str) -> dict[str, float]:
    con = duckdb.connect()
    s = f"read_csv('{folder}/setl_list.csv', all_varchar=true)"
    d = f"read_csv('{folder}/diseinfo.csv', all_varchar=true)"
    row = con.sql(
        f"""select count(*), sum(case when dscg_way = '5' then 1 else 0 end),
                   sum(cast(ownpay_amt as double)), sum(cast(medfee_sumamt as double)),
                   sum(date_diff('day', cast(adm_time as timestamp), cast(dscg_time as timestamp))),
                   sum(case when setl_id in (select setl_id from {d}
                       where diag_code in {tuple(UPCODE_DX)}) then 1 else 0 end)
            from {s} where {subject_sql} and strftime(cast(dscg_time as timestamp), '%Y-%m') >= '{start}'"""
    ).fetchall()[0]
    return dict(zip(("n", "deaths", "ownpay", "cost", "los", "upcode_dx"), row, strict=True))


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("drift")
    generate(root / "clean", cases=4000, seed=9, hospitals=12, labels_dir=root / "labels")
    shutil.copytree(root / "clean", root / "data")
    plant_drifts(root / "data", root / "labels", seed=9, min_cases=60)
    return root / "clean", root / "data", root / "labels" / "drift.csv"


def test_every_kind_changes_its_subject_from_the_start_month(planted) -> None:
    clean, data, labels = planted
    with labels.open(encoding="utf-8") as fh:
        drifts = {r["kind"]: r for r in csv.DictReader(fh)}
    assert set(drifts) == {
        "upcoding", "split_admission", "los_inflation", "low_standard", "low_risk_death",
        "selfpay_shift", "outlier_inflation", "decoy",
    }  # fmt: skip
    where = {
        "institution": "medins_code = '{}'",
        "department": "medins_code || '/' || dscg_caty = '{}'",
        "doctor": "medins_code || '/' || chfpdr_code = '{}'",
    }

    def both(kind: str) -> tuple[dict, dict]:
        d = drifts[kind]
        sql = where[d["level"]].format(d["subject"])
        return _stats(clean, sql, d["start"]), _stats(data, sql, d["start"])

    before, after = both("upcoding")
    assert after["upcode_dx"] > before["upcode_dx"] + 0.2 * before["n"]
    before, after = both("split_admission")
    assert after["n"] > before["n"] and after["los"] < before["los"]
    before, after = both("los_inflation")
    assert after["los"] > 1.3 * before["los"] and after["cost"] > before["cost"]
    before, after = both("low_standard")
    assert after["los"] < 0.8 * before["los"] and after["cost"] < before["cost"]
    before, after = both("low_risk_death")
    assert after["deaths"] > before["deaths"]
    before, after = both("selfpay_shift")
    assert after["ownpay"] > before["ownpay"] + 0.1 * before["cost"]
    before, after = both("outlier_inflation")
    assert after["cost"] > 1.15 * before["cost"]
    before, after = both("decoy")
    assert after["n"] > 1.3 * before["n"]
    # Rates of the decoy stay as they were: copies of its own cases.
    assert after["cost"] / after["n"] == pytest.approx(before["cost"] / before["n"], rel=0.03)
    # Nothing changes before the start month.
    d = drifts["upcoding"]
    early = f"medins_code = '{d['subject']}' and strftime(cast(dscg_time as timestamp), '%Y-%m') < '{d['start']}'"
    assert _stats(clean, early, "0000") == _stats(data, early, "0000")


@pytest.mark.slow
def test_monitor_warns_every_drift_and_not_the_decoy(tmp_path: Path) -> None:
    generate(tmp_path / "data", cases=20000, seed=3, labels_dir=tmp_path / "labels")
    plant_drifts(tmp_path / "data", tmp_path / "labels", seed=3)
    cfg = config.load(None)
    with Store(tmp_path / "r.duckdb") as store:
        ctx = RunContext(engine=store, config=cfg, data_dir=tmp_path / "data", show_progress=False)
        run_steps(ctx, STEPS)
        r = evaluate_drifts(store, tmp_path / "labels" / "drift.csv", cfg)
    assert [d["kind"] for d in r.drifts if not d["warned"]] == []
    assert not r.decoy_warned
