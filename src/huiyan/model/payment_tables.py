"""Result tables of the payment step beyond design.md §4 (declared here so column names live in model).

``drg_standard`` and ``dip_catalog`` are the payment standards derived from history (测算) or
loaded from a bureau's publication; ``payment_rate`` the rate / point values in force;
``settlement``, ``settlement_case`` and ``settlement_pool`` the monthly pre-settlement and
year-end clearing ledgers, which reconcile to the fen.
"""

from __future__ import annotations

from huiyan.model.fields import BIGINT, BOOL, FLOAT, MONEY, QTY, STR, Field, Table

F = Field

DRG_STANDARD = Table(
    "drg_standard",
    "DRG支付标准",
    key=("scheme", "drg"),
    fields=(
        F("scheme", STR, "分组方案", required=True),
        F("drg", STR, "DRG组", required=True),
        F("n_cases", BIGINT, "历史病例数", required=True),
        F("n_used", BIGINT, "裁剪后病例数", required=True),
        F("mean_cost", MONEY, "组均费用(裁剪后)"),
        F("cv", FLOAT, "变异系数"),
        F("stable", BOOL, "稳定病组", required=True),
        F("weight", FLOAT, "相对权重", required=True),
        F("source", STR, "来源", required=True, doc="derived (from history) or published"),
    ),
)

PAYMENT_RATE = Table(
    "payment_rate",
    "费率与点值",
    key=("method", "kind"),
    fields=(
        F("method", STR, "支付方式", required=True, enum="payment_method"),
        F("kind", STR, "类别", required=True, doc="rate, point_value, perdiem"),
        F("value", QTY, "费率/点值", required=True),
        F("budget", MONEY, "预算(总费用口径)"),
        F("total_units", FLOAT, "总权重/总分值"),
        F("note", STR, "说明"),
    ),
)

DIP_CATALOG = Table(
    "dip_catalog",
    "DIP病种目录",
    key=("catalog", "dip_group"),
    doc=(
        "One row per DIP packet. diag_code is the subcategory (core) or category (comprehensive); "
        "procedures the '+'-joined sorted procedure codes (empty: conservative); proc_type "
        "conservative/diagnostic/therapeutic/surgery; ref_cost_lv* the mean cost of the packet "
        "in hospitals of that level (A of the deviation rule)."
    ),
    fields=(
        F("catalog", STR, "病种目录", required=True),
        F("dip_group", STR, "DIP病种", required=True),
        F("group_type", STR, "病种类型", required=True, enum="dip_group_type"),
        F("diag_code", STR, "诊断(亚目/类目)", required=True),
        F("procedures", STR, "手术操作组合"),
        F("proc_type", STR, "治疗方式", required=True),
        F("n_cases", BIGINT, "病例数"),
        F("mean_cost", MONEY, "次均费用"),
        F("score", FLOAT, "病种分值", required=True),
        F("ref_cost_lv1", MONEY, "一级医院次均费用"),
        F("ref_cost_lv2", MONEY, "二级医院次均费用"),
        F("ref_cost_lv3", MONEY, "三级医院次均费用"),
        F("source", STR, "来源", doc="derived or published"),
    ),
)

SETTLEMENT = Table(
    "settlement",
    "医疗机构结算",
    key=("period", "kind", "medins_code"),
    doc="One row per institution and settlement run; amounts are fund amounts in yuan.",
    fields=(
        F("period", STR, "结算期间", required=True),
        F("kind", STR, "结算类型", required=True, doc="monthly (月预结算) or year_end (年终清算)"),
        F("medins_code", STR, "定点医药机构编号", required=True),
        F("cases", BIGINT, "病例数", required=True),
        F("standard_amt", MONEY, "支付标准合计", required=True),
        F("actual_cost", MONEY, "实际医疗费用", required=True),
        F("patient_share", MONEY, "患者负担", required=True),
        F("special_review_amt", MONEY, "特病单议增付"),
        F("new_tech_amt", MONEY, "新技术除外支付"),
        F("clearing_adj", MONEY, "结余留用/超支分担调整"),
        F("deduction", MONEY, "违规扣减"),
        F("fund_due", MONEY, "基金应付", required=True),
        F("prepaid", MONEY, "已预付"),
        F("paid", MONEY, "本次拨付", required=True),
        F("withheld", MONEY, "暂扣(质量保证金)"),
        F("redistributed", MONEY, "再分配所得"),
    ),
)

SETTLEMENT_CASE = Table(
    "settlement_case",
    "病例结算明细",
    key=("period", "kind", "setl_id"),
    fields=(
        F("period", STR, "结算期间", required=True),
        F("kind", STR, "结算类型", required=True),
        F("setl_id", STR, "结算ID", required=True),
        F("medins_code", STR, "定点医药机构编号", required=True),
        F("case_type", STR, "病例类型", enum="case_type"),
        F("fund_due", MONEY, "基金应付", required=True),
        F("deduction", MONEY, "违规扣减"),
        F("redistributed", MONEY, "再分配所得"),
        F("special_review", STR, "特病单议", doc="approved, over_cap or blank"),
        F("tilt", FLOAT, "再分配倾斜系数"),
    ),
)

SETTLEMENT_POOL = Table(
    "settlement_pool",
    "基金池对账",
    key=("period", "kind"),
    doc="pool_in = paid_out + withheld + redistributed, to the fen.",
    fields=(
        F("period", STR, "结算期间", required=True),
        F("kind", STR, "结算类型", required=True),
        F("pool_in", MONEY, "基金池收入", required=True),
        F("paid_out", MONEY, "拨付合计", required=True),
        F("withheld", MONEY, "暂扣/结余", required=True),
        F("redistributed", MONEY, "再分配", required=True),
        F("deducted", MONEY, "违规扣减合计"),
        F("reconciled", BOOL, "平衡", required=True),
    ),
)

PAYMENT_TABLES: tuple[Table, ...] = (
    DRG_STANDARD,
    PAYMENT_RATE,
    DIP_CATALOG,
    SETTLEMENT,
    SETTLEMENT_CASE,
    SETTLEMENT_POOL,
)
