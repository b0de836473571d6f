"""Restriction tables: the national knowledge points and a dataset's ``hilist`` limits as rows.

Three tables of ``huiyan.model.kb_tables``:

- ``item_restriction`` — one row per (code, kind) from batches 1, 3, 4, 5, 6 and 8 of
  ``nhsa-lk-2025`` (sex, age, insurance type, care setting, hospital level, course,
  per-day frequency, per-period frequency);
- ``dup_charge_pair`` — batch 7, the main item already includes the sub item in a window;
- ``surgery_discount`` — batch 2, procedures whose second and later ones through the same
  incision are discounted.

They are built from the raw CSV at first use and cached (about 0.2 s), so the published
files stay the single source and there is no generated copy to keep in step.

Choices (each also written in the ``note`` of the rows it affects):

- ages: ``age_min <= age < age_max`` in years (``lk_text``); 儿童 = under 18 unless the
  药品说明 states a range, 新生儿 = 28 days or younger, 婴幼儿 = under 3;
- level: 二级 = level 2 and above, so ``lmt_medins_lv`` = "2";
- insurance type: 工伤/生育 drugs are payable only by that scheme, so never by basic medical
  insurance (insutype 310 employee / 390 resident);
- frequency (8-1): 1/日 or 1/天 = at most 1 per calendar day; 24/小时 = at most 24 hours per
  calendar day (``per`` = day, the unit is hours);
- course (8-3): the "不超过 N 天 / 一年" wording; its "间隔不短于14天" part is the same limit
  batch 8-4 publishes as once per 14 days, so it is not duplicated;
- working age (8-2): ``[16, 60)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from functools import cache

import pyarrow as pa
import pyarrow.compute as pc

from huiyan.kb import lk, lk_text
from huiyan.model.fields import Table
from huiyan.model.kb_tables import DUP_CHARGE_PAIR, ITEM_RESTRICTION, SURGERY_DISCOUNT
from huiyan.model.tables import HILIST

SOURCE_HILIST = "hilist"
NOT_BASIC_INSURANCE = "不属基本医疗保险(职工310/居民390)支付"


def _src(file: str) -> str:
    return f"{lk.LK_VERSION}/{file.split('_', 1)[0]}"


def _drug_rows(points: str, codes: str, kind: str) -> Iterable[dict[str, object]]:
    for point, _code_row, code in lk.drug_codes(points, codes):
        base = {
            "hilist_code": code,
            "kind": kind,
            "source": _src(points),
            "note": point["药品说明"],
        }
        yield base | _drug_values(kind, point)


def _drug_values(kind: str, point: lk.Row) -> dict[str, object]:
    try:
        if kind == "sex":
            return {"lmt_gend": lk_text.sex(point["限定对象"])}
        if kind == "age":
            a = lk_text.age_range(point["限定对象"], point["药品说明"])
            return {
                "age_min": a.age_min,
                "age_max": a.age_max,
                "note": f"{a.how}; {point['药品说明']}",
            }
        if kind == "insutype":
            return {
                "lmt_insutype": point["限定对象"],
                "note": f"限{point['限定对象']}保险; {NOT_BASIC_INSURANCE}",
            }
        if kind == "care_setting":
            return {"lmt_care_setting": point["限定值域"]}
        if kind == "level":
            return {"lmt_medins_lv": lk_text.lowest_level(point["限定值域"])}
        if kind == "course":
            return {"max_days": lk_text.course_days(point["限定值域"]), "per": "stay"}
    except ValueError as exc:
        column = "限定对象" if kind in ("sex", "age", "insutype") else "限定值域"
        raise point.fail(column, str(exc)) from exc
    raise AssertionError(kind)


_DRUG_RULES = (
    ("b1_drug_sex_points.csv", "b1_drug_sex_codes.csv", "sex"),
    ("b1_drug_age_points.csv", "b1_drug_age_codes.csv", "age"),
    ("b3_drug_insurance_type_points.csv", "b3_drug_insurance_type_codes.csv", "insutype"),
    ("b4_drug_care_setting_points.csv", "b4_drug_care_setting_codes.csv", "care_setting"),
    ("b5_drug_institution_level_points.csv", "b5_drug_institution_level_codes.csv", "level"),
    ("b6_drug_payment_course_points.csv", "b6_drug_payment_course_codes.csv", "course"),
)


def _item_rows() -> Iterable[dict[str, object]]:
    for row in lk.rows(f := "b1_item_sex_points.csv"):
        try:
            gend = lk_text.sex(row["限定性别"])
        except ValueError as exc:
            raise row.fail("限定性别", str(exc)) from exc
        yield _item(row["国标代码"], "sex", f, row["项目说明"], lmt_gend=gend)
    for row in lk.rows(f := "b1_item_age_points.csv"):
        try:
            a = lk_text.age_range(row["限定对象"])
        except ValueError as exc:
            raise row.fail("限定对象", str(exc)) from exc
        yield _item(row["国标代码"], "age", f, a.how, age_min=a.age_min, age_max=a.age_max)
    for row in lk.rows(f := "b8_1_item_frequency_points.csv"):
        unit = row["数量单位"]
        if unit not in ("日", "天", "小时"):
            raise row.fail("数量单位", "应为 日/天/小时")
        note = f"每日最多{row['限制数量']}{'小时' if unit == '小时' else '次'}"
        yield _item(row["项目编码"], "frequency", f, note, max_cnt=_qty(row, "限制数量"), per="day")
    for row in lk.rows(f := "b8_2_item_age_working_points.csv"):
        low, high = lk_text.WORKING_AGE
        note = f"法定就业年龄 16–60 岁(女职工退休年龄更低, 取最宽); {row['备注']}"
        yield _item(row["项目代码"], "age", f, note, age_min=low, age_max=high)
    for row in lk.rows(f := "b8_3_item_course_points.csv"):
        try:
            days = lk_text.course_days(row["备注"])
        except ValueError as exc:
            raise row.fail("备注", str(exc)) from exc
        yield _item(row["项目代码"], "course", f, row["备注"], max_days=days, per="stay")
    for row in lk.rows(f := "b8_4_item_period_frequency_points.csv"):
        yield _item(
            row["项目代码"],
            "period_frequency",
            f,
            row["备注"],
            max_cnt=_qty(row, "频次上限"),
            per="period",
            period_days=_int(row, "疗程周期"),
        )


def _item(code: str, kind: str, file: str, note: str, **values: object) -> dict[str, object]:
    return {"hilist_code": code, "kind": kind, "source": _src(file), "note": note, **values}


def _qty(row: lk.Row, column: str) -> Decimal:
    try:
        value = Decimal(row[column])
    except ArithmeticError as exc:
        raise row.fail(column, "不是数字") from exc
    if value <= 0:
        raise row.fail(column, "应大于0")
    return value


def _int(row: lk.Row, column: str) -> int:
    value = _qty(row, column)
    if value != int(value):
        raise row.fail(column, "应为整数")
    return int(value)


def _table(table: Table, records: Iterable[dict[str, object]]) -> pa.Table:
    # Column by column: pa.Table.from_pylist would import pandas (about a second).
    rows = list(records)
    arrays = [pa.array([r.get(f.name) for r in rows], f.type) for f in table.fields]
    return pa.Table.from_arrays(arrays, schema=table.arrow_schema())


@cache
def _national(name: str) -> pa.Table:
    if name == ITEM_RESTRICTION.name:
        records: list[dict[str, object]] = []
        for points, codes, kind in _DRUG_RULES:
            records.extend(_drug_rows(points, codes, kind))
        records.extend(_item_rows())
        return _table(ITEM_RESTRICTION, records)
    if name == DUP_CHARGE_PAIR.name:
        return _table(DUP_CHARGE_PAIR, _dup_pairs())
    if name == SURGERY_DISCOUNT.name:
        return _table(SURGERY_DISCOUNT, _surgery_groups())
    raise KeyError(name)


def _dup_pairs() -> Iterable[dict[str, object]]:
    for row in lk.rows(f := "b7_item_duplicate_charge_points.csv"):
        try:
            window = lk_text.window(row["频度"])
        except ValueError as exc:
            raise row.fail("频度", str(exc)) from exc
        yield {
            "main_code": row["主项编码"],
            "main_name": row["主项名称"],
            "sub_code": row["从项编码"],
            "sub_name": row["从项名称"],
            "window": window,
            "note": row["备注"] or None,
            "source": _src(f),
        }


def _surgery_groups() -> Iterable[dict[str, object]]:
    for row in lk.rows(f := "b2_item_surgery_discount_points.csv"):
        yield {
            "hilist_code": row["国标代码"],
            "surgery_group": row["限定值域"],
            "source": _src(f),
        }


NAMES = (ITEM_RESTRICTION.name, DUP_CHARGE_PAIR.name, SURGERY_DISCOUNT.name)


def load(name: str) -> pa.Table:
    """The national table ``name`` (``item_restriction``, ``dup_charge_pair``, ``surgery_discount``)."""
    if name not in NAMES:
        raise KeyError(f"unknown restriction table {name!r}; known: {', '.join(NAMES)}")
    return _national(name)


def from_hilist(hilist: pa.Table) -> pa.Table:
    """ITEM_RESTRICTION rows (source ``hilist``) for the limits a dataset's catalog states.

    ``lmt_gend`` → sex; ``lmt_age_min``/``lmt_age_max`` → age (the catalog's maximum is an
    age still allowed, "≤ 14 岁", so ``age_max`` = it + 1 under the exclusive convention);
    ``lmt_medins_lv`` → level; ``max_cnt_day`` → frequency per day; ``max_days`` → course.
    Blank cells state no limit.
    """
    h = HILIST.conform(hilist)
    n = h.num_rows

    def stated(column: str) -> pa.ChunkedArray:
        values = h.column(column)
        if pa.types.is_string(values.type):
            return pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(values), ""), False)
        return pc.is_valid(values)

    def rows(kind: str, mask: pa.ChunkedArray, **cols: pa.ChunkedArray | object) -> pa.Table:
        data = {
            "hilist_code": h.column("hilist_code"),
            "kind": pa.repeat(pa.scalar(kind), n),
            "note": h.column("lmt_scope"),
            "source": pa.repeat(pa.scalar(SOURCE_HILIST), n),
        }
        for name, value in cols.items():
            data[name] = (
                value if isinstance(value, pa.ChunkedArray) else pa.repeat(pa.scalar(value), n)
            )
        return ITEM_RESTRICTION.conform(pa.table(data).filter(mask))

    gend = pc.utf8_trim_whitespace(h.column("lmt_gend"))
    return pa.concat_tables(
        [
            rows("sex", pc.fill_null(pc.is_in(gend, pa.array(["1", "2"])), False), lmt_gend=gend),
            rows(
                "age",
                pc.or_(stated("lmt_age_min"), stated("lmt_age_max")),
                age_min=pc.coalesce(h.column("lmt_age_min"), 0.0),
                age_max=pc.add(h.column("lmt_age_max"), 1.0),
            ),
            rows(
                "level",
                stated("lmt_medins_lv"),
                lmt_medins_lv=pc.utf8_trim_whitespace(h.column("lmt_medins_lv")),
            ),
            rows("frequency", stated("max_cnt_day"), max_cnt=h.column("max_cnt_day"), per="day"),
            rows("course", stated("max_days"), max_days=h.column("max_days"), per="stay"),
        ]
    )


def effective_item_restrictions(hilist: pa.Table | None) -> pa.Table:
    """National restrictions plus the dataset's: for the same code and kind the hilist wins."""
    national = load(ITEM_RESTRICTION.name)
    if hilist is None or hilist.num_rows == 0:
        return national
    own = from_hilist(hilist)
    keys = pc.binary_join_element_wise(own.column("hilist_code"), own.column("kind"), "\x1f")
    theirs = pc.binary_join_element_wise(
        national.column("hilist_code"), national.column("kind"), "\x1f"
    )
    kept = national.filter(
        pc.invert(pc.is_in(theirs, value_set=pa.array(keys.to_pylist(), pa.string()).unique()))
    )
    return pa.concat_tables([kept, own])
