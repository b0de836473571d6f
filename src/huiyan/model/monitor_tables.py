"""Tables of the monitor step (监测预警) beyond docs/design.md §4's column list, and the optional
outpatient input tables it reads for cost shifting (declared here so column names live in model).
"""

from __future__ import annotations

from huiyan.model.fields import BIGINT, FLOAT, MONEY, QTY, STR, TIME, Field, Table

F = Field

INDICATOR = Table(
    "indicator",
    "监测指标",
    key=("level", "subject", "period", "indicator"),
    doc=(
        "Long table: one row per subject, period and indicator. subject: medins_code "
        "(institution), medins_code/dscg_caty (department) or medins_code/chfpdr_code (doctor); "
        "period: YYYY-MM, YYYY-Qn or YYYY by discharge date; value = numerator / denominator "
        "(null when the denominator is 0; counts have no denominator). Definitions: "
        "kb/data/config/monitor.yaml."
    ),
    fields=(
        F("level", STR, "层级", required=True, enum="warning_level"),
        F("subject", STR, "对象", required=True),
        F("medins_code", STR, "定点医药机构编号", required=True),
        F("peer_group", STR, "同级同类组", doc="level-type of the institution (e.g. 3-general)"),
        F("period_type", STR, "期间类型", required=True, doc="month, quarter or year"),
        F("period", STR, "期间", required=True),
        F("indicator", STR, "指标", required=True),
        F("value", FLOAT, "指标值"),
        F("numerator", FLOAT, "分子"),
        F("denominator", FLOAT, "分母"),
        F("cases", BIGINT, "病例数", required=True),
    ),
)

# Optional outpatient settlements (门诊结算) with national field names (2207 / 2204 interfaces),
# read only to measure cost shifting around inpatient stays.
MZ_SETL = Table(
    "mz_setl",
    "门诊结算",
    key=("setl_id",),
    fields=(
        F("setl_id", STR, "结算ID", required=True),
        F("mdtrt_id", STR, "就诊ID", required=True),
        F("psn_no", STR, "人员编号", required=True),
        F("medins_code", STR, "定点医药机构编号", required=True, aliases=("fixmedins_code",)),
        F("setl_time", TIME, "结算时间", required=True, aliases=("begntime",)),
        F("med_type", STR, "医疗类别"),
        F("medfee_sumamt", MONEY, "医疗费总额", required=True),
        F("fund_pay_sumamt", MONEY, "基金支付总额"),
        F("psn_cashpay", MONEY, "个人现金支付"),
    ),
)

MZ_FEEDETAIL = Table(
    "mz_feedetail",
    "门诊费用明细",
    key=("mdtrt_id", "feedetl_sn"),
    fields=(
        F("feedetl_sn", STR, "费用明细流水号", required=True),
        F("mdtrt_id", STR, "就诊ID", required=True),
        F("setl_id", STR, "结算ID"),
        F("fee_ocur_time", TIME, "费用发生时间", required=True),
        F("med_list_codg", STR, "医疗目录编码", required=True, aliases=("hilist_code",)),
        F("med_chrgitm_type", STR, "医疗收费项目类别"),
        F("cnt", QTY, "数量", required=True),
        F("pric", QTY, "单价", required=True),
        F("det_item_fee_sumamt", MONEY, "明细项目费用总额", required=True, aliases=("sumamt",)),
    ),
)

MONITOR_TABLES: tuple[Table, ...] = (INDICATOR,)
OUTPATIENT_TABLES: tuple[Table, ...] = (MZ_SETL, MZ_FEEDETAIL)
