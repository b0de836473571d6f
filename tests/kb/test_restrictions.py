from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from huiyan.kb import lk_text, restrictions

LK = "nhsa-lk-2025"


def _codes(shared: Path, file: str, column: str) -> set[str]:
    with (shared / LK / file).open(encoding="utf-8") as fh:
        return {r[column].strip() for r in csv.DictReader(fh)}


def _kind(kind: str) -> pa.Table:
    t = restrictions.load("item_restriction")
    return t.filter(pc.equal(t["kind"], kind))


@pytest.mark.parametrize(
    ("file", "column", "kind"),
    [
        ("b1_drug_sex_codes.csv", "药品代码", "sex"),
        ("b1_item_sex_points.csv", "国标代码", "sex"),
        ("b1_drug_age_codes.csv", "国标代码", "age"),
        ("b1_item_age_points.csv", "国标代码", "age"),
        ("b3_drug_insurance_type_codes.csv", "国标代码", "insutype"),
        ("b4_drug_care_setting_codes.csv", "国标代码", "care_setting"),
        ("b5_drug_institution_level_codes.csv", "国标代码", "level"),
        ("b6_drug_payment_course_codes.csv", "国标代码", "course"),
        ("b8_1_item_frequency_points.csv", "项目编码", "frequency"),
        ("b8_3_item_course_points.csv", "项目代码", "course"),
        ("b8_4_item_period_frequency_points.csv", "项目代码", "period_frequency"),
    ],
)
def test_every_published_code_has_its_restriction(reference_data, file, column, kind):
    expected = _codes(reference_data, file, column)
    got = set(_kind(kind)["hilist_code"].to_pylist())
    assert expected <= got


def test_row_counts_reconcile_with_the_raw_files(reference_data):
    t = restrictions.load("item_restriction")
    counts = dict(zip(*t.group_by("kind").aggregate([("kind", "count")]).columns, strict=True))
    counts = {k.as_py(): v.as_py() for k, v in counts.items()}
    # one row per published code row (points files for items, codes files for drugs)
    assert counts["sex"] == 6472 + 390
    assert counts["age"] == 4398 + 30 + 1
    assert counts["course"] == 1147 + 11
    assert restrictions.load("dup_charge_pair").num_rows == 900
    assert restrictions.load("surgery_discount").num_rows == 378


def _one(code: str, kind: str) -> dict:
    rows = _kind(kind).filter(pc.equal(_kind(kind)["hilist_code"], code)).to_pylist()
    assert len(rows) == 1, rows
    return rows[0]


def test_known_facts():
    assert _one("XL02BBA326A001010102180", "sex")["lmt_gend"] == "1"  # 阿帕他胺片, male only
    assert _one("002101030300000", "sex")["lmt_gend"] == "2"  # 子宫造影
    newborn = _one("003112020030000", "age")  # 新生儿复苏: 28 days or younger
    assert newborn["age_max"] == pytest.approx(29 / 365)
    level = _one("ZC01AAA0042010105549", "level")  # 艾迪注射液 限二级及以上
    assert level["lmt_medins_lv"] == "2"
    hourly = _one("003106030010000", "frequency")  # 呼吸机辅助呼吸 ≤ 24 h/day
    assert (hourly["max_cnt"], hourly["per"]) == (24, "day")
    hba1c = _one("002503020030000", "period_frequency")
    assert (hba1c["max_cnt"], hba1c["period_days"]) == (1, 15)
    assert _one("003402000350000", "course")["max_days"] == 365  # 支付不超过一年


def test_dup_charge_windows_are_mapped():
    pairs = restrictions.load("dup_charge_pair")
    windows = dict(
        zip(*pairs.group_by("window").aggregate([("window", "count")]).columns, strict=True)
    )
    assert {k.as_py(): v.as_py() for k, v in windows.items()} == {
        "day": 446,
        "stay": 429,
        "6h": 18,
        "hour": 7,
    }


@pytest.mark.parametrize(
    ("target", "text", "expected"),
    [
        ("儿童", "限：1.1岁至14岁儿童哮喘的预防", (1, 15)),
        ("儿童", "限5至12岁以下单纯性甲型和乙型流感儿童患者", (5, 12)),
        ("儿童", "限3-12岁特发性肺动脉高压患者", (3, 13)),
        ("儿童", "用于小儿腹泻", (0, 18)),
        ("婴幼儿", "", (0, 3)),
    ],
)
def test_age_wording(target, text, expected):
    r = lk_text.age_range(target, text)
    assert (r.age_min, r.age_max) == expected


def test_from_hilist_and_override():
    hilist = pa.table(
        {
            "hilist_code": ["XL02BBA326A001010102180", "001102000050000", "Q1"],
            "lmt_gend": ["2", None, ""],
            "lmt_age_max": [None, None, 14.0],
            "max_cnt_day": pa.array([None, 2, None], pa.int32()),
        }
    )
    own = restrictions.from_hilist(hilist)
    assert sorted(zip(own["hilist_code"].to_pylist(), own["kind"].to_pylist(), strict=True)) == [
        ("001102000050000", "frequency"),
        ("Q1", "age"),
        ("XL02BBA326A001010102180", "sex"),
    ]
    assert set(own["source"].to_pylist()) == {"hilist"}
    eff = restrictions.effective_item_restrictions(hilist)
    sex = eff.filter(
        pc.and_(
            pc.equal(eff["hilist_code"], "XL02BBA326A001010102180"), pc.equal(eff["kind"], "sex")
        )
    )
    assert sex["lmt_gend"].to_pylist() == ["2"]  # the dataset wins
    freq = eff.filter(pc.equal(eff["hilist_code"], "001102000050000"))
    assert freq["max_cnt"].to_pylist() == [2]
    national = restrictions.load("item_restriction").num_rows
    assert eff.num_rows == national + 1  # Q1 age added; two national rows replaced
