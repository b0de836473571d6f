"""Result tables of the qc step beyond docs/design.md §4 (declared here so column names live in model)."""

from __future__ import annotations

from huiyan.model.fields import BIGINT, FLOAT, STR, Field, Table

F = Field

QC_INDICATOR = Table(
    "qc_indicator",
    "结算清单质控指标",
    key=("medins_code", "period", "indicator"),
    doc=(
        "The four institution-month indicators (period = discharge month YYYY-MM): "
        "upload_rate 上传率, completeness_rate 完整率, grouping_rate 入组率, qc_pass_rate 质控通过率."
    ),
    fields=(
        F("medins_code", STR, "定点医药机构编号", required=True),
        F("period", STR, "期间(出院月份)", required=True),
        F(
            "indicator",
            STR,
            "指标",
            required=True,
            enum="qc_indicator",
        ),
        F("numerator", BIGINT, "分子", required=True),
        F("denominator", BIGINT, "分母", required=True),
        F("rate", FLOAT, "比率", doc="numerator / denominator; null when the denominator is 0"),
    ),
)

QC_TABLES: tuple[Table, ...] = (QC_INDICATOR,)
