from __future__ import annotations

from huiyan.engine import Store
from huiyan.kb import config as kb_config
from huiyan.pipeline.context import RunContext
from huiyan.pipeline.steps import price
from pricing import builders as b


def _case(store_rows: dict, sid: str, year: int, cost: float, dx: str, procs: list[str]) -> None:
    store_rows["setl_list"].append(b.settlement(sid, "H1", cost, year=year))
    store_rows["diseinfo"].append({"setl_id": sid, "diag_srt_no": 1, "diag_code": dx})
    for i, p in enumerate(procs, start=1):
        store_rows["oprninfo"].append({"setl_id": sid, "oprn_srt_no": i, "oprn_oprt_code": p})


def test_catalog_scores_and_deviation_reproduce_the_worked_examples(store: Store) -> None:
    rows: dict = {"setl_list": [], "diseinfo": [], "oprninfo": []}
    # Packet P: means 8,000 / 9,000 / 10,000 in 2021/22/23 → m = 9,600 (1:2:7); every year's
    # overall mean is 8,000 → M = 8,000 → score 1,200 (§2.2).
    for year, p_cost, q_cost in ((2021, 8_000, 8_000), (2022, 9_000, 7_000), (2023, 10_000, 6_000)):
        for i in range(5):
            _case(rows, f"P{year}{i}", year, p_cost, "I21.000x001", ["88.5500", "36.0600"])
            _case(rows, f"Q{year}{i}", year, q_cost, "K35.800", [])
    _case(rows, "R1", 2023, 8_000, "J18.900", ["87.4400"])
    for name, r in rows.items():
        b.write(store, name, r)
    b.write(store, "medins", [b.medins("H1", "3")])
    price.run(RunContext(store, kb_config.load()))
    cat = {r["dip_group"]: r for r in store.read("dip_catalog").to_pylist()}
    p = cat["I21.0|36.0600+88.5500"]
    assert (p["group_type"], p["proc_type"], p["n_cases"]) == ("core", "surgery", 15)
    assert round(p["score"], 6) == 1200
    assert cat["K35.8"]["group_type"] == "core"
    assert cat["J18:diagnostic"]["group_type"] == "comprehensive"
    result = {r["setl_id"]: r["dip_group"] for r in store.read("dip_result").to_pylist()}
    assert result["R1"] == "J18:diagnostic" and result["P20210"] == "I21.0|36.0600+88.5500"


def test_deviation_cases_with_a_published_catalog(store: Store, tmp_path) -> None:
    csv = tmp_path / "dip.csv"
    csv.write_text(
        "dip_group,group_type,diag_code,procedures,proc_type,score,mean_cost\n"
        "I21.0|36.0600,core,I21.0,36.0600,surgery,1200,10000\n",
        encoding="utf-8",
    )
    rows: dict = {"setl_list": [], "diseinfo": [], "oprninfo": []}
    for sid, cost in {"N": 10_000, "H": 30_000, "L": 4_000, "X": 60_000}.items():
        _case(rows, sid, 2024, cost, "I21.000", ["36.0600"])
    for name, r in rows.items():
        b.write(store, name, r)
    cfg = kb_config.load()
    cfg["payment"]["dip"]["catalog_file"] = str(csv)
    price.run(RunContext(store, cfg))
    pay = {r["setl_id"]: r for r in store.read("payment").to_pylist() if r["method"] == "DIP"}
    # A = 10,000, score 1,200: cost 30,000 → 2,400 points; cost 4,000 → 480 points (§2.5).
    assert (pay["H"]["case_type"], round(pay["H"]["weight_or_score"], 6)) == ("high", 2400)
    assert (pay["L"]["case_type"], round(pay["L"]["weight_or_score"], 6)) == ("low", 480)
    assert (pay["N"]["case_type"], pay["N"]["weight_or_score"]) == ("normal", 1200)
    assert pay["X"]["case_type"] == "extreme_high"


def test_published_catalog_errors_name_row_and_field(tmp_path) -> None:
    import pytest

    from huiyan.errors import InputError
    from huiyan.grouping.dip.published import load_catalog

    csv = tmp_path / "dip.csv"
    csv.write_text(
        "dip_group,group_type,diag_code,procedures,proc_type,score\nA,core,A01,,surgery,abc\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="第2行 字段 score"):
        load_catalog(csv, name="x")
