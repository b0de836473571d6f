"""Readers of the free-text limits in the NHSA knowledge points (ages, courses, levels, windows).

Each function turns one published wording into numbers and says which wording it recognised,
so the choice is visible in the ``note`` of the restriction row it feeds.

Age bounds follow one convention everywhere in huiyan: ``age_min`` is inclusive and
``age_max`` is exclusive, in years (fractional where days are known: days / 365). So
"儿童" (a minor) is ``[0, 18)``, "2岁至11岁" is ``[2, 12)`` and "新生儿" (≤ 28 days) is
``[0, 29/365)``.
"""

from __future__ import annotations

import re
from typing import NamedTuple

DAYS_PER_YEAR = 365.0

# docs/domain-reference.md §4.4: newborn ≤ 28 days, infant < 3 years, child < 18 years (minor under
# the Civil Code art. 17). Kept here, not in config: they define the published categories.
NEWBORN_MAX_DAYS = 28
INFANT_MAX_YEARS = 3.0
CHILD_MAX_YEARS = 18.0
# 职业功能训练 "beyond the statutory working age": from 16 (Labour Law art. 15) to 60, the
# statutory retirement age of men before the 2025 reform; women's lower ages vary by post and
# birth year, so the row keeps the most permissive bound and says so in its note.
WORKING_AGE = (16.0, 60.0)

_NUM = r"(\d+)"  # whole numbers only: "限：1.1岁至14岁" is list item 1, ages 1–14
# "2岁至11岁", "1岁至14岁", "3-12岁", "6-17岁", "5至12岁以下" — a closed range of completed years.
_RANGE = re.compile(_NUM + r"\s*(?:周?岁)?\s*(?:至|-|~|—|到)\s*" + _NUM + r"\s*周?岁")
# "11周岁以下" — under N years.
_UNDER = re.compile(_NUM + r"\s*周?岁以下")
# "3岁及3岁以上", "3岁以上" — from N years.
_FROM = re.compile(_NUM + r"\s*周?岁(?:及" + _NUM + r"周?岁)?以上")
# "1月以上婴儿" — from N months.
_FROM_MONTHS = re.compile(_NUM + r"\s*(?:个)?月(?:龄)?以上")


class AgeRange(NamedTuple):
    """Allowed ages: ``age_min <= age < age_max`` in years; ``how`` names the wording used."""

    age_min: float
    age_max: float
    how: str


def age_range(target: str, text: str = "") -> AgeRange:
    """The allowed age range of a children's drug or item.

    ``target`` is the published 限定对象 (儿童 / 新生儿 / 婴幼儿); an explicit range in the
    drug's 药品说明 ``text`` narrows the default of the category.

    >>> age_range("儿童", "限2岁至11岁儿童慢性便秘")
    AgeRange(age_min=2.0, age_max=12.0, how='说明: 2岁至11岁')
    >>> age_range("儿童", "适用于接受肠外营养的11周岁以下患者")
    AgeRange(age_min=0.0, age_max=11.0, how='说明: 11岁以下')
    >>> age_range("婴幼儿")
    AgeRange(age_min=0.0, age_max=3.0, how='婴幼儿: 未满3岁')
    """
    if target == "新生儿":
        return AgeRange(0.0, (NEWBORN_MAX_DAYS + 1) / DAYS_PER_YEAR, "新生儿: 出生28天内")
    if target == "婴幼儿":
        return AgeRange(0.0, INFANT_MAX_YEARS, "婴幼儿: 未满3岁")
    if target != "儿童":
        raise ValueError(f"unknown age target {target!r} (expected 儿童/新生儿/婴幼儿)")
    if m := _RANGE.search(text):
        low, high = float(m.group(1)), float(m.group(2))
        # "5至12岁以下" states the upper bound itself as exclusive.
        exclusive = text[m.end() : m.end() + 2] == "以下"
        return AgeRange(
            low,
            high if exclusive else high + 1,
            f"说明: {_fmt(low)}岁至{_fmt(high)}岁{'以下' if exclusive else ''}",
        )
    if m := _UNDER.search(text):
        return AgeRange(0.0, float(m.group(1)), f"说明: {_fmt(float(m.group(1)))}岁以下")
    if m := _FROM.search(text):
        return AgeRange(float(m.group(1)), CHILD_MAX_YEARS, f"说明: {m.group(0)}儿童")
    if m := _FROM_MONTHS.search(text):
        months = float(m.group(1))
        return AgeRange(months / 12, CHILD_MAX_YEARS, f"说明: {_fmt(months)}月以上儿童")
    return AgeRange(0.0, CHILD_MAX_YEARS, "儿童: 未满18岁")


def _fmt(x: float) -> str:
    return str(int(x)) if x == int(x) else str(x)


_DAYS = re.compile(r"(?:不超过|限)?\s*" + _NUM + r"\s*天")
_YEAR = re.compile(r"不超过(?:一|1)年")


def course_days(text: str) -> int:
    """The longest paid course in days from wording like "14天", "支付不超过30天", "一年".

    >>> course_days("14天"), course_days("一个疾病过程支付不超过90天。"), course_days("支付不超过一年")
    (14, 90, 365)
    """
    if _YEAR.search(text):
        return 365
    if m := _DAYS.search(text):
        return int(float(m.group(1)))
    raise ValueError(f"no course length in {text!r}")


_LEVELS = {"一级": "1", "二级": "2", "三级": "3"}


def lowest_level(text: str) -> str:
    """The lowest hospital level allowed: "二级" means level 2 and above (二级及以上).

    >>> lowest_level("二级"), lowest_level("三级")
    ('2', '3')
    """
    try:
        return _LEVELS[text.strip()]
    except KeyError:
        raise ValueError(f"unknown hospital level {text!r} (expected 一级/二级/三级)") from None


_WINDOWS = {"单日": "day", "单次就诊": "stay", "6小时": "6h", "同一小时": "hour"}


def window(text: str) -> str:
    """The model's window code of a batch-7 频度 (单日 → day, 单次就诊 → stay, 6小时, 同一小时)."""
    try:
        return _WINDOWS[text.strip()]
    except KeyError:
        raise ValueError(f"unknown window {text!r} (expected {'/'.join(_WINDOWS)})") from None


_SEXES = {"男": "1", "女": "2"}


def sex(text: str) -> str:
    """The model's ``gend`` code of a published 限定性别 (男 → 1, 女 → 2)."""
    try:
        return _SEXES[text.strip()]
    except KeyError:
        raise ValueError(f"unknown sex {text!r} (expected 男/女)") from None
