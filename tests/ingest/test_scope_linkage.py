"""Payment scope is recorded for every settlement; front pages are linked and the rate reported."""

from __future__ import annotations

from pathlib import Path

from tests.ingest.builders import SETL, write_csv, write_dataset

from huiyan.engine import Store
from huiyan.ingest import ingest
from huiyan.kb import config as kb_config


def _scope(store: Store) -> dict[str, tuple[bool, str]]:
    rows = store.con.sql("select setl_id, in_scope, scope_reason from case_scope").fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def _cases() -> list[dict[str, str]]:
    rows = [dict(r) for r in SETL]
    rows[1]["med_type"] = "52"  # maternity
    rows[2] |= {"fund_pay_sumamt": "0", "ownpay_amt": "12000.50"}  # self-pay
    rows[3]["med_type"] = "9902"  # rehabilitation
    rows[4] |= {"adm_time": "2024-01-01 08:00:00", "dscg_time": "2024-04-01 08:00:00"}  # long stay
    return rows


def test_scope_reasons_and_nothing_dropped(store: Store, data_dir: Path) -> None:
    dise = [
        {
            "setl_id": "S5",
            "diag_srt_no": "1",
            "diag_code": "F20.000",
            "diag_name": "偏执型精神分裂症",
            "maindiag_flag": "1",
        }
    ]
    write_dataset(data_dir, setl_list=_cases(), diseinfo=dise)
    report = ingest(data_dir, store)
    assert _scope(store) == {
        "S1": (True, "in_scope"),
        "S2": (False, "maternity"),
        "S3": (False, "self_pay"),
        "S4": (False, "rehabilitation"),
        "S5": (False, "psychiatric"),
    }
    assert store.count("setl_list") == 5 and sum(report.scope.values()) == 5


def test_scope_follows_configuration(store: Store, data_dir: Path) -> None:
    write_dataset(data_dir, setl_list=_cases())
    cfg = kb_config.load(None)
    cfg["scope"]["exclude"]["maternity"] = False
    cfg["scope"]["excluded_depts"] = ["A15"]
    ingest(data_dir, store, cfg)
    assert _scope(store)["S2"] == (True, "in_scope")


def test_medrcd_match_rate(store: Store, data_dir: Path) -> None:
    write_dataset(data_dir)
    pages = [
        {
            "medcasno": mc,
            "rec_type": "diag",
            "srt_no": "1",
            "code": "i21.000",
            "name": "急性心肌梗死",
        }
        for mc in ("MC1", "MC2", "MC3", "MC404")
    ]
    write_csv(data_dir / "medrcd.csv", pages)
    report = ingest(data_dir, store)
    assert report.medrcd_match is not None
    assert (report.medrcd_match.matched, report.medrcd_match.settlements) == (3, 5)
    assert store.con.sql("select distinct code from medrcd").fetchall() == [("I21.000",)]


def test_settlements_naming_an_unknown_institution_are_reported(
    store: Store, data_dir: Path
) -> None:
    setl = [dict(r) for r in SETL]
    setl[1]["medins_code"] = setl[3]["medins_code"] = "H404"
    write_dataset(data_dir, setl_list=setl)
    report = ingest(data_dir, store)
    assert report.tables["setl_list"].quarantined == 0  # kept: the level is what is missing
    assert report.without_institution == 2
    assert any("2 条结算清单的机构编码" in n for n in report.notes)
    write_dataset(data_dir)  # the same institutions as the settlements
    with Store(data_dir / "other.duckdb") as other:
        assert ingest(data_dir, other).without_institution == 0
