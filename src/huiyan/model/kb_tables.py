"""Knowledge-base restriction tables huiyan derives from the national knowledge points
(``kb/data/lk/nhsa-lk-2025``) and from a dataset's ``hilist`` columns.

Declared here, beside the canonical tables, so that their column names too are defined once.
"""

from __future__ import annotations

from huiyan.model.fields import FLOAT, INT, QTY, STR, Field, Table

F = Field

ITEM_RESTRICTION = Table(
    "item_restriction",
    "药品/项目限定",
    doc=(
        "One row per (code, kind) restriction. kind: sex, age, level, insutype, care_setting, "
        "course, frequency, period_frequency. Columns not used by a kind are null."
    ),
    fields=(
        F("hilist_code", STR, "医保目录编码", required=True),
        F("kind", STR, "限定类型", required=True, enum="restriction_kind"),
        F("lmt_gend", STR, "限性别", enum="gend"),
        F("age_min", FLOAT, "最小年龄(岁)", doc="inclusive, years (days / 365 for newborns)"),
        F(
            "age_max",
            FLOAT,
            "最大年龄(岁)",
            doc="exclusive, years: allowed when age_min <= age < age_max",
        ),
        F("lmt_medins_lv", STR, "最低医院等级", enum="medins_lv"),
        F(
            "lmt_insutype",
            STR,
            "限险种",
            doc="e.g. 工伤 / 生育: not payable by basic medical insurance",
        ),
        F("lmt_care_setting", STR, "限就医方式", doc="inpatient: 住院"),
        F("max_days", INT, "最长支付疗程(天)"),
        F("max_cnt", QTY, "最大数量"),
        F("per", STR, "数量计量期间", enum="restriction_per"),
        F("period_days", INT, "周期(天)"),
        F("source", STR, "来源", required=True, doc="e.g. nhsa-lk-2025/b1, hilist"),
        F("note", STR, "限定说明"),
    ),
)

DUP_CHARGE_PAIR = Table(
    "dup_charge_pair",
    "重复收费项目对",
    doc="Main item already includes the sub item when both fall in the same window (NHSA batch 7).",
    fields=(
        F("main_code", STR, "主项编码", required=True),
        F("main_name", STR, "主项名称"),
        F("sub_code", STR, "从项编码", required=True),
        F("sub_name", STR, "从项名称"),
        F("window", STR, "频度", required=True, enum="window"),
        F("note", STR, "备注"),
        F("source", STR, "来源", required=True),
    ),
)

SURGERY_DISCOUNT = Table(
    "surgery_discount",
    "手术折价项目",
    doc="Second and later procedures through one incision must be discounted (NHSA batch 2).",
    fields=(
        F("hilist_code", STR, "医保目录编码", required=True),
        F("surgery_group", STR, "手术组", required=True),
        F("source", STR, "来源", required=True),
    ),
)

KB_TABLES: tuple[Table, ...] = (ITEM_RESTRICTION, DUP_CHARGE_PAIR, SURGERY_DISCOUNT)
