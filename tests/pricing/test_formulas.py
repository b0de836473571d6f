from __future__ import annotations

from huiyan.pricing import formulas


def test_worked_examples_of_domain_reference() -> None:
    # §1.2: RW and CMI
    assert formulas.relative_weight(15_000, 10_000) == 1.5
    assert round(formulas.cmi([1.5] * 300 + [0.6] * 700), 10) == 0.87
    # §1.3 rate method: 1.08 billion / 108,000 RW; ES21 standard; fund pays standard - 2,400
    rate = formulas.base_rate(1.08e9, 108_000)
    assert rate == 10_000
    assert formulas.standard_payment(1.5, rate) - 2_400 == 12_600
    # §2.2 and §2.3 DIP
    assert formulas.weighted_mean([8_000, 9_000, 10_000], [1, 2, 7]) == 9_600
    assert round(formulas.dip_case_payment(1_200, 8.00, 0.93), 2) == 8_928
