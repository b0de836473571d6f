"""Calibration on the stored history: complete years, shrinkage, severity order, levels, exactness."""

from __future__ import annotations

from decimal import Decimal

from huiyan.engine import Store
from huiyan.kb import config as kb_config
from huiyan.model.exact import amount
from huiyan.pipeline.context import RunContext
from huiyan.pipeline.steps import price
from huiyan.pricing.drg import price_drg
from pricing import builders as b


def _year(store: Store, prefix: str, drg: str, cost: float, n: int = 12, **kw) -> None:
    """``n`` cases of ``drg`` costing ``cost``, one a month (a complete year)."""
    rows = [
        b.settlement(
            f"{prefix}{i}", kw.get("hosp", "H1"), cost, year=kw.get("year", 2024), month=i % 12 + 1
        )
        for i in range(n)
    ]
    b.write(store, "setl_list", rows)
    b.write(store, "drg_result", [b.drg(r["setl_id"], drg) for r in rows])


def _weights(store: Store, cfg: dict) -> dict[str, dict]:
    return {r["drg"]: r for r in price_drg(store, cfg).standards.to_pylist()}


def test_a_partial_year_is_left_out_of_the_weights(store: Store) -> None:
    b.write(store, "medins", [b.medins("H1")])
    _year(store, "A", "FR15", 1_000)
    _year(store, "B", "GR15", 3_000)
    # January 2025 only: 1 of 12 months, so not a calibration year (it would weigh 7 of 9).
    b.write(store, "setl_list", [b.settlement("X", "H1", 9_000, year=2025, month=1)])
    b.write(store, "drg_result", [b.drg("X", "FR15")])
    result = price_drg(store, kb_config.load())
    w = {r["drg"]: r for r in result.standards.to_pylist()}
    assert (w["FR15"]["weight"], w["GR15"]["weight"]) == (Decimal("0.5"), Decimal("1.5"))
    assert (w["FR15"]["n_cases"], w["FR15"]["n_window"]) == (13, 12)
    assert any("2025" in n for n in result.notes)
    assert result.rate == Decimal("2000")  # 2024 cost 48,000 / Σ RW 24


def test_a_small_group_is_shrunk_toward_its_adrg(store: Store) -> None:
    b.write(store, "medins", [b.medins("H1")])
    _year(store, "N", "ES15", 2_000)
    _year(store, "M", "ES11", 5_000, n=2)
    w = _weights(store, kb_config.load())
    # Grand mean 34,000 / 14; ES11 raw 5,000 / that = 2.058824; ADRG ES1 (14 cases) = 1.
    # Two cases of the ten required: 0.2 × 2.058824 + 0.8 × 1 = 1.211765.
    assert w["ES11"]["raw_weight"] == Decimal("2.058824")
    assert w["ES11"]["weight"] == Decimal("1.211765")
    assert w["ES11"]["basis"] == "shrunk_adrg"
    assert (w["ES15"]["weight"], w["ES15"]["basis"]) == (Decimal("0.823529"), "own")


def test_severity_inversion_is_pooled_with_a_warning_row(store: Store) -> None:
    b.write(store, "medins", [b.medins("H1")])
    _year(store, "M", "ES11", 1_000)
    _year(store, "N", "ES15", 3_000)
    cfg = kb_config.load()
    res = price_drg(store, cfg)
    w = {r["drg"]: r["weight"] for r in res.standards.to_pylist()}
    assert w["ES11"] == w["ES15"] == Decimal("1")  # (0.5·13 + 1.5·13) / 26
    assert sorted((x["group"], x["before"], x["after"]) for x in res.warnings) == [
        ("ES11", Decimal("0.5"), Decimal("1")),
        ("ES15", Decimal("1.5"), Decimal("1")),
    ]
    cfg["payment"]["calibration"]["severity_order"] = "warn"
    res = price_drg(store, cfg)
    w = {r["drg"]: r["weight"] for r in res.standards.to_pylist()}
    assert (w["ES11"], w["ES15"]) == (Decimal("0.5"), Decimal("1.5"))
    assert len(res.warnings) == 2


def test_level_coefficients_come_from_the_cost_ratio_by_level(store: Store) -> None:
    b.write(store, "medins", [b.medins("H3", "3"), b.medins("H1", "1")])
    _year(store, "T", "FR15", 3_000, hosp="H3")
    _year(store, "P", "FR15", 1_000, hosp="H1")
    res = price_drg(store, kb_config.load())
    assert res.coefficients == {"1": Decimal("0.5"), "3": Decimal("1.5")}
    pay = {r["setl_id"]: r for r in res.payment.to_pyarrow().to_pylist()}
    # Rate 48,000 / 24 = 2,000; a level-1 case is paid 1 × 2,000 × 0.5 = its cost.
    assert pay["P0"]["standard_payment"] == Decimal("1000.00")
    assert pay["T0"]["standard_payment"] == Decimal("3000.00")


def test_published_coefficients_win(store: Store) -> None:
    b.write(store, "medins", [b.medins("H3", "3"), b.medins("H1", "1")])
    _year(store, "T", "FR15", 3_000, hosp="H3")
    _year(store, "P", "FR15", 1_000, hosp="H1")
    cfg = kb_config.load()
    cfg["payment"]["drg"]["coefficients"] = {"3": 1.0, "1": 0.8}
    cfg["payment"]["drg"]["rate"] = 2500
    pay = {r["setl_id"]: r for r in price_drg(store, cfg).payment.to_pyarrow().to_pylist()}
    assert pay["P0"]["standard_payment"] == Decimal("2000.00")  # 1 × 2,500 × 0.8


def _dip_region(store: Store) -> None:
    b.write(store, "medins", [b.medins("H3", "3"), b.medins("H1", "1")])
    rows, dx = [], []
    for i in range(24):
        hosp = "H3" if i % 2 else "H1"
        cost = 3_000 + 100 * (i % 3)
        rows.append(b.settlement(f"C{i}", hosp, cost, month=i % 12 + 1))
        dx.append({"setl_id": f"C{i}", "diag_srt_no": 1, "diag_code": "J18.900"})
    rows.append(b.settlement("EX", "H3", 40_000, month=3))
    dx.append({"setl_id": "EX", "diag_srt_no": 1, "diag_code": "J18.900"})
    b.write(store, "setl_list", rows)
    b.write(store, "diseinfo", dx)
    b.write(store, "drg_result", [b.drg(r["setl_id"], "ES15") for r in rows])


def test_every_payment_row_reproduces_from_its_stored_factors(store: Store) -> None:
    _dip_region(store)
    price.run(RunContext(store, kb_config.load()))
    rows = store.read("payment").to_pylist()
    assert {r["method"] for r in rows} == {"DRG", "DIP"}
    for r in rows:
        got = amount(
            r["weight_or_score"], r["rate_or_point_value"], r["coefficient"], r["actual_cost"]
        )
        assert got == r["standard_payment"], r


def test_extreme_dip_case_is_listed_for_review_not_auto_paid(store: Store) -> None:
    _dip_region(store)
    price.run(RunContext(store, kb_config.load()))
    review = store.read("dip_review").to_pylist()
    assert [r["setl_id"] for r in review] == ["EX"]
    pay = {r["setl_id"]: r for r in store.read("payment").to_pylist() if r["method"] == "DIP"}
    # Paid at the packet score, not at the ultra-high formula, until the panel decides.
    assert pay["EX"]["case_type"] == "extreme_high"
    assert pay["EX"]["weight_or_score"] == review[0]["score"]
    assert review[0]["proposed_score"] > review[0]["score"]


def test_primary_care_packet_pays_the_same_at_every_level(store: Store) -> None:
    _dip_region(store)
    cfg = kb_config.load()
    cfg["payment"]["dip"]["primary_care"] = ["J18"]
    price.run(RunContext(store, cfg))
    cat = store.read("dip_catalog").to_pylist()
    j18 = next(r for r in cat if r["dip_group"].startswith("J18"))
    assert j18["primary_care"] is True
    assert j18["ref_cost_lv1"] == j18["ref_cost_lv3"]
    pay = [r for r in store.read("payment").to_pylist() if r["method"] == "DIP"]
    normal = {r["standard_payment"] for r in pay if r["case_type"] == "normal"}
    assert len(normal) == 1 and {r["coefficient"] for r in pay} == {Decimal(1)}


def test_reruns_give_identical_tables(store: Store) -> None:
    _dip_region(store)
    names = ("payment", "drg_standard", "dip_catalog", "payment_rate", "pricing_warning")
    price.run(RunContext(store, kb_config.load()))
    first = {n: store.read(n) for n in names}
    price.run(RunContext(store, kb_config.load()))
    for n in names:
        assert store.read(n).equals(first[n]), n


def test_severity_auxiliary_coefficient_scales_score_and_reference(store: Store) -> None:
    b.write(store, "medins", [b.medins("H3", "3")])
    rows, dx, grp = [], [], []
    for i in range(24):
        mcc = i % 2 == 1
        rows.append(b.settlement(f"C{i}", "H3", 2_000 if mcc else 1_000, month=i % 12 + 1))
        dx.append({"setl_id": f"C{i}", "diag_srt_no": 1, "diag_code": "J18.900"})
        grp.append(b.drg(f"C{i}", "ES15", mcc=mcc))
    b.write(store, "setl_list", rows)
    b.write(store, "diseinfo", dx)
    b.write(store, "drg_result", grp)
    price.run(RunContext(store, kb_config.load()))
    rates = {r["kind"]: r["value"] for r in store.read("payment_rate").to_pylist()}
    # Packet mean 1,500: the MCC cases cost 24,000 against 18,000 expected → 1.333333,
    # the plain ones 12,000 / 18,000 → 0.666667 (4 decimals: 1.3333 / 0.6667).
    assert (rates["severity:mcc"], rates["severity:none"]) == (
        Decimal("1.3333"),
        Decimal("0.6667"),
    )
    pay = {r["setl_id"]: r for r in store.read("payment").to_pylist() if r["method"] == "DIP"}
    score = Decimal(str(store.read("dip_catalog").to_pylist()[0]["score"]))
    assert score == Decimal(1000)  # the only packet: its mean is the grand mean
    # A × 1.3333 = 1,999.95 for an MCC case costing 2,000: normal, not ultra-high.
    assert {pay["C1"]["case_type"], pay["C0"]["case_type"]} == {"normal"}
    assert pay["C1"]["weight_or_score"] == Decimal("1333.300000")
    assert pay["C0"]["weight_or_score"] == Decimal("666.700000")
