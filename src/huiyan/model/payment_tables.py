"""Result tables of the payment step beyond docs/design.md §4 (declared here so column names live in model).

``drg_standard`` and ``dip_catalog`` are the payment standards derived from history (测算) or
loaded from a bureau's publication; ``payment_rate`` the rate / point values in force;
``settlement``, ``settlement_case`` and ``settlement_pool`` the monthly pre-settlement and
year-end clearing ledgers, which reconcile to the fen.
"""

from __future__ import annotations

from huiyan.model.fields import BIGINT, BOOL, DATE, FACTOR, FLOAT, MONEY, STR, Field, Table

F = Field

DRG_STANDARD = Table(
    "drg_standard",
    "DRG支付标准",
    key=("scheme", "drg"),
    fields=(
        F("scheme", STR, "分组方案", required=True),
        F("drg", STR, "DRG组", required=True),
        F("n_cases", BIGINT, "历史病例数", required=True),
        F("n_window", BIGINT, "测算年度病例数", doc="cases in the complete calibration years"),
        F("n_used", BIGINT, "裁剪后病例数", required=True),
        F("mean_cost", MONEY, "组均费用(裁剪后, 年度加权)"),
        F("cv", FACTOR, "变异系数"),
        F("stable", BOOL, "稳定病组", required=True),
        F("raw_weight", FACTOR, "原始权重", doc="the group's own year-weighted mean / grand mean"),
        F("weight", FACTOR, "相对权重", required=True),
        F("source", STR, "来源", required=True, doc="derived (from history) or published"),
        F("basis", STR, "依据", doc="own, shrunk_adrg/mdc/published/all, +severity, published"),
        F("note", STR, "说明"),
    ),
)

PAYMENT_RATE = Table(
    "payment_rate",
    "费率与点值",
    key=("method", "kind"),
    fields=(
        F("method", STR, "支付方式", required=True, enum="payment_method"),
        F("kind", STR, "类别", required=True, doc="rate, point_value, perdiem"),
        F("value", FACTOR, "费率/点值", required=True),
        F("budget", MONEY, "预算(总费用口径)"),
        F("total_units", FACTOR, "总权重/总分值"),
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
        F(
            "score",
            FLOAT,
            "病种分值",
            required=True,
            doc="six decimals; pricing reads it as DECIMAL(18,6)",
        ),
        F("ref_cost_lv1", MONEY, "一级医院次均费用"),
        F("ref_cost_lv2", MONEY, "二级医院次均费用"),
        F("ref_cost_lv3", MONEY, "三级医院次均费用"),
        F("source", STR, "来源", doc="derived or published"),
        F(
            "primary_care",
            BOOL,
            "基层病种",
            doc="same score and no level coefficient at every level",
        ),
        F("note", STR, "说明"),
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
        F("overspend_cut", MONEY, "超预算分担", doc="the hospital's share of an overspend"),
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
        F("budget", MONEY, "基金预算"),
        F("provisional_value", FACTOR, "预结算费率/点值"),
        F("final_value", FACTOR, "清算费率/点值", doc="fitted to the budget at year end"),
        F("overspend", MONEY, "超预算金额", doc="payout above the budget before sharing"),
        F("overspend_shared", MONEY, "超预算分担", doc="cut from hospitals as configured"),
        F("within_budget", BOOL, "未超预算"),
        F("reconciled", BOOL, "平衡", required=True, doc="identity holds and payout ≤ budget"),
    ),
)

PRICING_WARNING = Table(
    "pricing_warning",
    "测算预警",
    key=("method", "group", "kind"),
    doc="Each adjustment or doubt of calibration, e.g. a weight inverted by severity.",
    fields=(
        F("method", STR, "支付方式", required=True),
        F("group", STR, "DRG/DIP组", required=True),
        F("parent", STR, "上级组(ADRG)"),
        F("kind", STR, "类别", required=True, doc="severity_order"),
        F("before", FACTOR, "调整前"),
        F("after", FACTOR, "调整后"),
        F("message", STR, "说明", required=True),
    ),
)

DIP_REVIEW = Table(
    "dip_review",
    "DIP极端异常病例评审",
    key=("setl_id",),
    doc=(
        "Extreme DIP cases (cost > extreme × A): paid at the packet score until the panel "
        "decides; status approved: year-end clearing pays the proposed score."
    ),
    fields=(
        F("setl_id", STR, "结算ID", required=True),
        F("medins_code", STR, "定点医药机构编号"),
        F("dip_group", STR, "DIP病种", required=True),
        F("actual_cost", MONEY, "实际费用", required=True),
        F("ref_cost", MONEY, "同级次均费用A", required=True),
        F("ratio", FACTOR, "费用/A", required=True),
        F(
            "score",
            FLOAT,
            "病种分值",
            required=True,
            doc="six decimals; pricing reads it as DECIMAL(18,6)",
        ),
        F("proposed_score", FACTOR, "按超高公式分值", required=True),
        F("status", STR, "状态", required=True, doc="pending until a review decision"),
    ),
)

PRICE_FREEZE = Table(
    "price_freeze",
    "冻结的支付标准",
    key=("version", "method", "kind", "key"),
    doc=(
        "A year's standards frozen under a version with effective dates: kind weight "
        "(DRG), score (DIP packet), rate, point_value, perdiem, coefficient (key = level)."
    ),
    fields=(
        F("version", STR, "版本", required=True),
        F("effective_from", DATE, "生效日期", required=True),
        F("effective_to", DATE, "失效日期"),
        F("method", STR, "支付方式", required=True),
        F("kind", STR, "类别", required=True),
        F("key", STR, "组/级别", required=True),
        F("value", FACTOR, "值", required=True),
    ),
)

PAYMENT_TABLES: tuple[Table, ...] = (
    DRG_STANDARD,
    PAYMENT_RATE,
    DIP_CATALOG,
    SETTLEMENT,
    SETTLEMENT_CASE,
    SETTLEMENT_POOL,
    PRICING_WARNING,
    DIP_REVIEW,
    PRICE_FREEZE,
)
