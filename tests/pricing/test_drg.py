from __future__ import annotations

from decimal import Decimal

from huiyan.engine import Store
from huiyan.kb import config as kb_config
from huiyan.pricing.drg import price_drg
from pricing import builders as b


def _payments(store: Store, config: dict) -> dict[str, dict]:
    return {r["setl_id"]: r for r in price_drg(store, config).payment.to_pyarrow().to_pylist()}


def test_weights_and_rate_reproduce_the_worked_example(store: Store) -> None:
    # Mean of all cases 10,000; ES21 mean 15,000 → RW 1.5; GE15 mean 6,000 → RW 0.6 (§1.2).
    rows = [b.settlement(f"E{i}", "H1", 15_000) for i in range(8)]
    rows += [b.settlement(f"G{i}", "H1", 6_000) for i in range(10)]
    b.write(store, "setl_list", rows)
    b.write(
        store,
        "drg_result",
        [b.drg(f"E{i}", "ES21") for i in range(8)] + [b.drg(f"G{i}", "GE15") for i in range(10)],
    )
    b.write(store, "medins", [b.medins("H1")])
    cfg = kb_config.load()
    cfg["payment"]["calibration"]["min_cases"] = 5  # both groups rest on their own cases
    result = price_drg(store, cfg)
    weights = {r["drg"]: r["weight"] for r in result.standards.to_pylist()}
    assert (weights["ES21"], weights["GE15"]) == (Decimal("1.5"), Decimal("0.6"))
    assert round(result.rate, 6) == 10_000  # budget 180,000 / Σ RW 18
    pay = _payments(store, cfg)
    assert pay["E0"]["standard_payment"] == Decimal("15000.00")
    assert pay["E0"]["difference"] == Decimal("0.00")


def test_iqr_trimming_drops_the_outlier_before_averaging(store: Store) -> None:
    rows = [b.settlement(f"A{i}", "H1", 10_000 + i) for i in range(10)]
    rows.append(b.settlement("AX", "H1", 100_000))
    b.write(store, "setl_list", rows)
    b.write(store, "drg_result", [b.drg(r["setl_id"], "FR21") for r in rows])
    cfg = kb_config.load()
    std = price_drg(store, cfg).standards.to_pylist()[0]
    assert (std["n_cases"], std["n_used"]) == (11, 10)
    assert std["mean_cost"] == Decimal("10004.50")
    cfg["payment"]["drg"]["trim"]["method"] = "none"
    assert price_drg(store, cfg).standards.to_pylist()[0]["n_used"] == 11


def _outlier_store(store: Store) -> dict:
    # Published ES21 weight 1.5; budget set so the rate is 10,000 (§1.3/§1.4 worked example).
    costs = {f"N{i}": 15_000 for i in range(19)} | {
        "HI1": 50_000,
        "HI2": 46_000,
        "LO": 4_000,
        "OK": 12_000,
        "QY": 7_000,
    }
    b.write(store, "setl_list", [b.settlement(k, "H1", v) for k, v in costs.items()])
    b.write(
        store,
        "drg_result",
        [b.drg(k, "ES21") for k in costs if k != "QY"] + [b.drg("QY", "GQY", status="QY")],
    )
    b.write(store, "medins", [b.medins("H1", "3")])
    b.write(store, "drg_weight", [{"scheme": "chs-drg-1.1", "drg": "ES21", "weight": 1.5}])
    cfg = kb_config.load()
    cfg["payment"]["drg"]["budget"] = 23 * 1.5 * 10_000
    return cfg


def test_high_and_low_multiple_cases(store: Store) -> None:
    pay = _payments(store, _outlier_store(store))
    assert pay["OK"]["standard_payment"] == Decimal("15000.00")  # hospital keeps 3,000
    assert pay["OK"]["difference"] == Decimal("3000.00")
    # 24 discharges × 5 % → one case by item: the larger excess (50,000) is paid by item.
    assert (pay["HI1"]["case_type"], pay["HI1"]["standard_payment"]) == (
        "high",
        Decimal("50000.00"),
    )
    assert (pay["HI2"]["case_type"], pay["HI2"]["standard_payment"]) == (
        "high",
        Decimal("15000.00"),
    )
    assert (pay["LO"]["case_type"], pay["LO"]["standard_payment"]) == ("low", Decimal("4000.00"))
    assert (pay["QY"]["case_type"], pay["QY"]["standard_payment"]) == ("qy", Decimal("7000.00"))


def test_point_formula_variant_for_high_cases(store: Store) -> None:
    cfg = _outlier_store(store)
    cfg["payment"]["drg"]["outlier_payment"] = "points"
    # 150 points + (3.33 - 3) × 150 = 200 points at 100 yuan = 20,000 (§1.4).
    assert _payments(store, cfg)["HI1"]["standard_payment"] == Decimal("20000.00")


def test_level_multiple_and_coefficient(store: Store) -> None:
    cfg = _outlier_store(store)
    cfg["payment"]["drg"]["coefficients"] = {"3": 1.0, "H1": 0.9}
    cfg["payment"]["drg"]["high_multiple"]["3"] = 4.0
    pay = _payments(store, cfg)
    assert pay["N0"]["standard_payment"] == Decimal("13500.00")
    assert pay["HI1"]["case_type"] == "normal"  # 50,000 / 13,500 = 3.7 < 4


def test_long_stay_paid_per_diem(store: Store) -> None:
    cfg = _outlier_store(store)
    b.write(store, "setl_list", [b.settlement("LS", "H1", 61_000, los=61)])
    b.write(store, "drg_result", [b.drg("LS", "ES21")])
    cfg["payment"]["drg"]["perdiem_rate"] = 800
    pay = _payments(store, cfg)
    assert (pay["LS"]["case_type"], pay["LS"]["standard_payment"]) == (
        "perdiem",
        Decimal("48800.00"),
    )
