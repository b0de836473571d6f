"""The canonical tables (design.md §3) and result tables (§4): the only place a column is named.

Column names follow the national medical-insurance platform interfaces (4101A settlement
list, 2301 fee details, 3101/3102 audit) so that exported data loads without renaming.
Everything else in huiyan refers to these declarations; ``TABLES`` is the registry by name.
"""

from __future__ import annotations

import pyarrow as pa

from huiyan.model.audit_tables import AUDIT_TABLES
from huiyan.model.fields import (
    BIGINT,
    BOOL,
    DATE,
    FACTOR,
    FLOAT,
    INT,
    MONEY,
    QTY,
    STR,
    TIME,
    Field,
    Table,
)
from huiyan.model.kb_tables import KB_TABLES
from huiyan.model.monitor_tables import MONITOR_TABLES, OUTPATIENT_TABLES
from huiyan.model.payment_tables import PAYMENT_TABLES
from huiyan.model.qc_tables import QC_TABLES

F = Field

# --------------------------------------------------------------------------- input tables

MEDINS = Table(
    "medins",
    "定点医疗机构",
    key=("medins_code",),
    fields=(
        F(
            "medins_code",
            STR,
            "定点医药机构编号",
            required=True,
            aliases=("fixmedins_code", "medins_id"),
        ),
        F("medins_name", STR, "定点医药机构名称", aliases=("fixmedins_name",)),
        F(
            "medins_lv",
            STR,
            "医院等级",
            required=True,
            enum="medins_lv",
            aliases=("hosp_lv", "hi_setl_lv"),
        ),
        F("medins_type", STR, "机构类型", enum="medins_type"),
        F("admdvs", STR, "医保区划", aliases=("medins_admdvs", "fix_blng_admdvs")),
    ),
)

SETL_LIST = Table(
    "setl_list",
    "医保结算清单",
    key=("setl_id",),
    doc="One row per inpatient settlement (4101A setlinfo plus the SETL_D amounts).",
    fields=(
        F("setl_id", STR, "结算ID", required=True),
        F("mdtrt_id", STR, "就诊ID", required=True),
        F("psn_no", STR, "人员编号", required=True, privacy="person"),
        F(
            "medins_code",
            STR,
            "定点医药机构编号",
            required=True,
            aliases=("fixmedins_code", "medins_id"),
        ),
        F("medcasno", STR, "病案号", aliases=("medrcdno",)),
        F("psn_name", STR, "姓名", privacy="name"),
        F("gend", STR, "性别", enum="gend"),
        F("brdy", DATE, "出生日期", privacy="birthdate"),
        F("age", INT, "年龄(岁)"),
        F("nwb_age_days", INT, "新生儿年龄(天)", aliases=("nwb_age",)),
        F("nwb_bir_wt", INT, "新生儿出生体重(g)"),
        F("nwb_adm_wt", INT, "新生儿入院体重(g)"),
        F("nwb_adm_type", STR, "新生儿入院类型", enum="nwb_adm_type"),
        F("ntly", STR, "国籍"),
        F("naty", STR, "民族"),
        F("patn_cert_type", STR, "患者证件类别"),
        F("certno", STR, "证件号码", privacy="id"),
        F("prfs", STR, "职业"),
        F("curr_addr", STR, "现住址", privacy="address"),
        F("emp_name", STR, "工作单位名称"),
        F("emp_addr", STR, "工作单位地址", privacy="address"),
        F("emp_tel", STR, "单位电话", privacy="phone"),
        F("poscode", STR, "邮编", aliases=("emp_poscode",)),
        F("coner_name", STR, "联系人姓名", privacy="name"),
        F("patn_rlts", STR, "与患者关系"),
        F("coner_addr", STR, "联系人地址", privacy="address"),
        F("coner_tel", STR, "联系人电话", privacy="phone"),
        F("hi_no", STR, "医保编号", privacy="id"),
        F("insutype", STR, "险种类型", required=True, enum="insutype", aliases=("hi_type",)),
        F("insuplc", STR, "参保地", aliases=("insu_admdvs",)),
        F("sp_psn_type", STR, "特殊人员类型"),
        F("med_type", STR, "医疗类别", enum="med_type", aliases=("ipt_med_type",)),
        F("trt_type", STR, "治疗类别", enum="trt_type"),
        F("adm_way", STR, "入院途径", enum="adm_way"),
        F("adm_time", TIME, "入院时间", required=True, aliases=("begntime", "adm_date")),
        F("adm_caty", STR, "入院科别", aliases=("adm_dept_codg",)),
        F("refldept_dept", STR, "转科科别", aliases=("refl_caty",)),
        F("dscg_time", TIME, "出院时间", required=True, aliases=("endtime", "dscg_date")),
        F("dscg_caty", STR, "出院科别", aliases=("dscg_dept_codg",)),
        F("act_ipt_days", INT, "实际住院天数", aliases=("ipt_days",)),
        F("otp_wm_dise", STR, "门(急)诊西医诊断"),
        F("wm_dise_code", STR, "门(急)诊西医诊断编码"),
        F("otp_tcm_dise", STR, "门(急)诊中医诊断"),
        F("tcm_dise_code", STR, "门(急)诊中医诊断编码"),
        F("diag_code_cnt", INT, "诊断代码计数"),
        F("oprn_oprt_code_cnt", INT, "手术操作代码计数"),
        F("vent_used_dura", FLOAT, "有创呼吸机使用时长(小时)", aliases=("vent_used_time",)),
        F("pwcry_bfadm_coma_dura", FLOAT, "颅脑损伤患者入院前昏迷时长(分钟)"),
        F("pwcry_afadm_coma_dura", FLOAT, "颅脑损伤患者入院后昏迷时长(分钟)"),
        F("bld_cat", STR, "输血品种"),
        F("bld_amt", FLOAT, "输血量"),
        F("bld_unt", STR, "输血计量单位"),
        F("spga_nurscare_days", INT, "特级护理天数"),
        F("lv1_nurscare_days", INT, "一级护理天数"),
        F("scd_nurscare_days", INT, "二级护理天数"),
        F("lv3_nurscare_days", INT, "三级护理天数"),
        F("dscg_way", STR, "离院方式", enum="dscg_way"),
        F("acp_medins_name", STR, "拟接收机构名称"),
        F("acp_optins_code", STR, "拟接收机构代码"),
        F(
            "days_rinp_flag_31",
            STR,
            "出院31天内再住院计划",
            enum="days_rinp_flag_31",
            aliases=("dscg_31days_rinp_flag",),
        ),
        F("days_rinp_pup_31", STR, "出院31天内再住院目的", aliases=("dscg_31days_rinp_pup",)),
        F("chfpdr_name", STR, "主诊医师姓名"),
        F("chfpdr_code", STR, "主诊医师代码", aliases=("atddr_no",)),
        F("resp_nurs_code", STR, "责任护士代码"),
        F("resp_nurs_name", STR, "责任护士姓名"),
        F("bill_code", STR, "票据代码"),
        F("bill_no", STR, "票据号码", aliases=("billno",)),
        F("biz_sn", STR, "业务流水号"),
        F("medfee_sumamt", MONEY, "医疗费总额", required=True),
        F("fund_pay_sumamt", MONEY, "基金支付总额"),
        F("hifp_pay", MONEY, "统筹基金支出"),
        F("acct_pay", MONEY, "个人账户支出"),
        F("psn_cashpay", MONEY, "个人现金支付", aliases=("cash_payamt",)),
        F("ownpay_amt", MONEY, "个人自费", aliases=("psn_ownpay", "fulamt_ownpay_amt")),
        F("selfpay_amt", MONEY, "个人自付", aliases=("psn_selfpay",)),
        F("hi_paymtd", STR, "医保支付方式", enum="hi_paymtd"),
        F("setl_begn_date", DATE, "结算期间开始日期", aliases=("setl_begndate", "begndate")),
        F("setl_end_date", DATE, "结算期间结束日期", aliases=("setl_enddate", "enddate")),
        F("setl_time", TIME, "结算时间"),
        F("dcla_time", TIME, "申报时间"),
        F("hsorg", STR, "医保机构"),
        F("hsorg_opter", STR, "医保机构经办人"),
        F("medins_fill_dept", STR, "医疗机构填报部门"),
        F("medins_fill_psn", STR, "医疗机构填报人"),
        F("out_setl_flag", STR, "异地结算标志", enum="out_setl_flag"),
    ),
)

DISEINFO = Table(
    "diseinfo",
    "诊断信息",
    key=("setl_id", "diag_srt_no"),
    fields=(
        F("setl_id", STR, "结算ID", required=True),
        F("diag_srt_no", INT, "诊断排序号", required=True, aliases=("dias_srt_no",)),
        F("diag_code", STR, "诊断代码", required=True, aliases=("dise_codg",)),
        F("diag_name", STR, "诊断名称", aliases=("dise_name",)),
        F("maindiag_flag", STR, "主诊断标志", enum="flag", aliases=("maindise_flag",)),
        F("diag_type", STR, "诊断类别", enum="diag_type"),
        F("adm_cond_type", STR, "入院病情", enum="adm_cond_type", aliases=("adm_cond",)),
        F(
            "diag_code_orig",
            STR,
            "原始诊断代码",
            doc="the code as submitted, when ingest mapped it",
        ),
    ),
)

OPRNINFO = Table(
    "oprninfo",
    "手术操作信息",
    key=("setl_id", "oprn_srt_no"),
    fields=(
        F("setl_id", STR, "结算ID", required=True),
        F("oprn_srt_no", INT, "手术操作排序号", required=True),
        F("oprn_oprt_code", STR, "手术操作代码", required=True),
        F("oprn_oprt_name", STR, "手术操作名称"),
        F("main_oprn_flag", STR, "主手术操作标志", enum="flag"),
        F("oprn_oprt_date", DATE, "手术操作日期"),
        F("oprn_oprt_begntime", TIME, "手术操作开始时间"),
        F("oprn_oprt_endtime", TIME, "手术操作结束时间"),
        F("anst_way", STR, "麻醉方式"),
        F("anst_begntime", TIME, "麻醉开始时间"),
        F("anst_endtime", TIME, "麻醉结束时间"),
        F("oper_dr_name", STR, "术者医师姓名"),
        F("oper_dr_code", STR, "术者医师代码"),
        F("anst_dr_name", STR, "麻醉医师姓名"),
        F("anst_dr_code", STR, "麻醉医师代码"),
        F(
            "oprn_oprt_code_orig",
            STR,
            "原始手术操作代码",
            doc="the code as submitted, when ingest mapped it",
        ),
    ),
)

ICUINFO = Table(
    "icuinfo",
    "重症监护信息",
    key=("setl_id", "scs_cutd_inpool_time"),
    fields=(
        F("setl_id", STR, "结算ID", required=True),
        F("scs_cutd_ward_type", STR, "重症监护病房类型"),
        F("scs_cutd_inpool_time", TIME, "进入重症监护室时间", required=True),
        F("scs_cutd_exit_time", TIME, "退出重症监护室时间"),
        F("scs_cutd_sum_dura", FLOAT, "重症监护合计时长(小时)"),
    ),
)

FEEDETAIL = Table(
    "feedetail",
    "住院费用明细",
    key=("mdtrt_id", "feedetl_sn"),
    doc="One row per charge line (2301). A refund line has negative cnt and init_feedetl_sn.",
    fields=(
        F("feedetl_sn", STR, "费用明细流水号", required=True),
        F("init_feedetl_sn", STR, "原费用流水号"),
        F("mdtrt_id", STR, "就诊ID", required=True),
        F("setl_id", STR, "结算ID"),
        F("drord_no", STR, "医嘱号"),
        F("fee_ocur_time", TIME, "费用发生时间", required=True),
        F("med_list_codg", STR, "医疗目录编码", required=True, aliases=("hilist_code",)),
        F("medins_list_codg", STR, "医药机构目录编码", aliases=("hosplist_code",)),
        F("med_list_name", STR, "医疗目录名称", aliases=("hilist_name",)),
        F(
            "med_chrgitm_type",
            STR,
            "医疗收费项目类别",
            enum="med_chrgitm_type",
            aliases=("chrg_type",),
        ),
        F("cnt", QTY, "数量", required=True),
        F("pric", QTY, "单价", required=True),
        F("det_item_fee_sumamt", MONEY, "明细项目费用总额", required=True, aliases=("sumamt",)),
        F("bilg_dept_codg", STR, "开单科室编码"),
        F("bilg_dr_codg", STR, "开单医生编码"),
        F("chrgitm_lv", STR, "收费项目等级", enum="chrgitm_lv", aliases=("hilist_lv",)),
        F("dscg_tkdrug_flag", STR, "出院带药标志", enum="flag"),
    ),
)

MEDRCD = Table(
    "medrcd",
    "病案首页",
    key=("medcasno", "rec_type", "srt_no"),
    doc=(
        "Front-page copies of diagnoses and procedures keyed by medcasno, one row per diagnosis "
        "(rec_type diag) or procedure (rec_type oprn), for front page vs settlement-list checks."
    ),
    fields=(
        F("medcasno", STR, "病案号", required=True, aliases=("medrcdno",)),
        F("medins_code", STR, "定点医药机构编号", aliases=("fixmedins_code",)),
        F("rec_type", STR, "记录类型", required=True, enum="medrcd_rec_type"),
        F("srt_no", INT, "排序号", required=True),
        F("code", STR, "诊断/手术操作代码", required=True),
        F("name", STR, "诊断/手术操作名称"),
        F("main_flag", STR, "主诊断/主手术标志", enum="flag"),
        F("adm_cond_type", STR, "入院病情", enum="adm_cond_type"),
        F("dscg_way", STR, "离院方式", enum="dscg_way"),
    ),
)

HILIST = Table(
    "hilist",
    "医保目录",
    key=("hilist_code",),
    fields=(
        F("hilist_code", STR, "医保目录编码", required=True, aliases=("med_list_codg",)),
        F("hilist_name", STR, "医保目录名称"),
        F("list_type", STR, "目录类别", enum="list_type"),
        F("med_chrgitm_type", STR, "医疗收费项目类别", enum="med_chrgitm_type"),
        F("chrgitm_lv", STR, "收费项目等级", enum="chrgitm_lv"),
        F("pric_lv1", QTY, "一级医院限价"),
        F("pric_lv2", QTY, "二级医院限价"),
        F("pric_lv3", QTY, "三级医院限价"),
        F("unit", STR, "计价单位"),
        F("lmt_gend", STR, "限性别", enum="gend"),
        F("lmt_age_min", FLOAT, "限最小年龄(岁)"),
        F("lmt_age_max", FLOAT, "限最大年龄(岁)"),
        F("lmt_medins_lv", STR, "限最低医院等级", enum="medins_lv"),
        F("max_cnt_day", QTY, "每日最大数量"),
        F("max_days", INT, "单次住院最长疗程(天)"),
        F("min_interval_days", INT, "最短间隔(天)"),
        F("lmt_dx", STR, "限定支付诊断(前缀,以|分隔)"),
        F("lmt_scope", STR, "限定支付范围"),
    ),
)

# ---------------------------------------------------------------- knowledge tables (§3)

DX_EVIDENCE = Table(
    "dx_evidence",
    "诊断治疗证据",
    fields=(
        F("diag_prefix", STR, "诊断代码前缀", required=True),
        F("role", STR, "诊断角色", required=True, enum="dx_role"),
        F("evidence_type", STR, "证据类型", required=True, enum="evidence_type"),
        F("evidence_code", STR, "证据代码", required=True),
    ),
)
OPRN_EVIDENCE = Table(
    "oprn_evidence",
    "手术操作收费证据",
    fields=(
        F("oprn_prefix", STR, "手术操作代码前缀", required=True),
        F("evidence_type", STR, "证据类型", required=True, enum="evidence_type"),
        F("evidence_code", STR, "证据代码", required=True),
    ),
)
DIAG_RESTRICTION = Table(
    "diag_restriction",
    "诊断限定",
    fields=(
        F("diag_prefix", STR, "诊断代码前缀", required=True),
        F("lmt_gend", STR, "限性别", enum="gend"),
        F("age_min", FLOAT, "最小年龄(岁)"),
        F("age_max", FLOAT, "最大年龄(岁)"),
        F("principal_allowed", STR, "可作主诊断", enum="flag"),
    ),
)
DIAG_EXCLUSIVE = Table(
    "diag_exclusive",
    "互斥诊断",
    fields=(
        F("diag_prefix_a", STR, "诊断前缀A", required=True),
        F("diag_prefix_b", STR, "诊断前缀B", required=True),
    ),
)
ITEM_EXCLUSIVE = Table(
    "item_exclusive",
    "互斥项目",
    fields=(
        F("group_id", STR, "互斥组", required=True),
        F("hilist_code", STR, "医保目录编码", required=True),
        F("window", STR, "时间窗", required=True, enum="window"),
    ),
)
ITEM_BUNDLE = Table(
    "item_bundle",
    "打包项目",
    fields=(
        F("bundle_code", STR, "打包项目编码", required=True),
        F("component_code", STR, "组成项目编码", required=True),
        F("min_components", INT, "最少组成项目数", required=True),
        F("window", STR, "时间窗", required=True, enum="window"),
    ),
)
EXAM_INDICATION = Table(
    "exam_indication",
    "检查适应证",
    fields=(
        F("group_id", STR, "检查组", required=True),
        F("hilist_code", STR, "医保目录编码", required=True),
        F("qualifying_dx", STR, "适应诊断前缀(以|分隔)", required=True),
        F("max_without", INT, "无适应证时最多项目数", required=True),
    ),
)
PROCEDURE_INCISION = Table(
    "procedure_incision",
    "手术切口类别",
    fields=(
        F("oprn_prefix", STR, "手术操作代码前缀", required=True),
        F("incision_class", STR, "切口类别", required=True, enum="incision_class"),
        F("prophylaxis_hours", INT, "预防用抗菌药物时限(小时)", required=True),
    ),
)
OUTPATIENT_TREATABLE = Table(
    "outpatient_treatable",
    "门诊可治疗病种",
    fields=(F("diag_prefix", STR, "诊断代码前缀", required=True),),
)
DRG_WEIGHT = Table(
    "drg_weight",
    "DRG权重",
    key=("scheme", "drg"),
    fields=(
        F("scheme", STR, "分组方案", required=True),
        F("drg", STR, "DRG组", required=True),
        F("weight", FLOAT, "相对权重", required=True),
        F("avg_cost", MONEY, "组平均费用"),
        F("avg_los", FLOAT, "组平均住院日"),
    ),
)

# ------------------------------------------------------------- ingest bookkeeping

QUARANTINE = Table(
    "quarantine",
    "隔离数据",
    doc="Rows rejected at ingest, with the reason; rows in = rows accepted + rows quarantined.",
    fields=(
        F("batch_id", STR, "批次ID", required=True),
        F("table_name", STR, "表", required=True),
        F("source_file", STR, "文件", required=True),
        F("row_number", BIGINT, "行号", required=True, doc="1-based data row number in the file"),
        F("field", STR, "字段"),
        F("value", STR, "值"),
        F("reason_code", STR, "原因代码", required=True),
        F("reason", STR, "原因", required=True, doc="Chinese"),
        F("reason_en", STR, "reason (English)", required=True),
        F("record", STR, "原始记录(JSON)"),
    ),
)

INGEST_BATCH = Table(
    "ingest_batch",
    "导入批次",
    key=("batch_id", "table_name", "source_file"),
    fields=(
        F("batch_id", STR, "批次ID", required=True),
        F("table_name", STR, "表", required=True),
        F("source_file", STR, "文件", required=True),
        F("content_hash", STR, "内容哈希", required=True),
        F("encoding", STR, "编码"),
        F("rows_read", BIGINT, "读入行数", required=True),
        F("rows_accepted", BIGINT, "接收行数", required=True),
        F("rows_quarantined", BIGINT, "隔离行数", required=True),
        F("rows_replaced", BIGINT, "替换行数"),
        F("rows_unchanged", BIGINT, "未变行数"),
        F("ingested_at", TIME, "导入时间", required=True),
    ),
)

PIPELINE_RUN = Table(
    "pipeline_run",
    "运行记录",
    doc=(
        "One row per pipeline step run: the fingerprint of its inputs (ingested batches and "
        "configuration); a step whose latest fingerprint matches is skipped."
    ),
    fields=(
        F("step", STR, "步骤", required=True),
        F("fingerprint", STR, "输入指纹", required=True),
        # Microseconds: two runs of one step within a second must still be ordered.
        F("finished_at", pa.timestamp("us"), "完成时间", required=True),
    ),
)

CASE_SCOPE = Table(
    "case_scope",
    "DRG/DIP付费范围",
    key=("setl_id",),
    doc="Why a settlement is in or out of DRG/DIP payment scope; out-of-scope cases are kept.",
    fields=(
        F("setl_id", STR, "结算ID", required=True),
        F("in_scope", BOOL, "是否纳入DRG/DIP", required=True),
        F("scope_reason", STR, "范围原因代码", enum="scope_reason"),
        F("scope_note", STR, "说明"),
    ),
)

# -------------------------------------------------------------------- results (§4)

QC_ISSUE = Table(
    "qc_issue",
    "结算清单质控问题",
    fields=(
        F("setl_id", STR, "结算ID", required=True),
        F("medins_code", STR, "定点医药机构编号"),
        F("check_id", STR, "质控规则编号", required=True),
        F("field", STR, "字段", required=True),
        F("value", STR, "值"),
        F("message", STR, "问题描述", required=True),
        F("severity", STR, "严重程度", required=True, enum="qc_severity"),
    ),
)

DRG_RESULT = Table(
    "drg_result",
    "DRG分组结果",
    key=("setl_id", "scheme"),
    fields=(
        F("setl_id", STR, "结算ID", required=True),
        F("scheme", STR, "分组方案", required=True),
        F("status", STR, "分组状态", required=True, enum="group_status"),
        F("mdc", STR, "MDC", required=True),
        F("adrg", STR, "ADRG", required=True),
        F("drg", STR, "DRG", required=True),
        F("has_mcc", BOOL, "有MCC"),
        F("has_cc", BOOL, "有CC"),
        F("trace", STR, "分组路径"),
    ),
)

DRG_REGROUP = Table(
    "drg_regroup",
    "去除主手术后的DRG分组",
    key=("setl_id", "scheme"),
    doc="Each case with a procedure grouped again without its principal procedure: the group "
    "an uncharged principal procedure lifted the case out of (UPCODE-002 re-prices on it).",
    fields=(
        F("setl_id", STR, "结算ID", required=True),
        F("scheme", STR, "分组方案", required=True),
        F("removed_oprn_code", STR, "去除的主手术操作编码", required=True),
        F("status", STR, "分组状态", required=True, enum="group_status"),
        F("drg", STR, "DRG", required=True),
    ),
)

DIP_RESULT = Table(
    "dip_result",
    "DIP分组结果",
    key=("setl_id", "catalog"),
    fields=(
        F("setl_id", STR, "结算ID", required=True),
        F("catalog", STR, "病种目录", required=True),
        F("dip_group", STR, "DIP病种", required=True),
        F("group_type", STR, "病种类型", required=True, enum="dip_group_type"),
        F("score", FLOAT, "病种分值"),
    ),
)

PAYMENT = Table(
    "payment",
    "支付结果",
    key=("setl_id", "method"),
    fields=(
        F("setl_id", STR, "结算ID", required=True),
        F("medins_code", STR, "定点医药机构编号"),
        F("method", STR, "支付方式", required=True, enum="payment_method"),
        F("group", STR, "DRG/DIP组", required=True),
        F("weight_or_score", FACTOR, "权重/分值", doc="empty when paid by item"),
        F("rate_or_point_value", FACTOR, "费率/点值", doc="empty when paid by item"),
        F(
            "coefficient",
            FACTOR,
            "系数",
            doc="level × auxiliary coefficient, or the by-item factor",
        ),
        F("case_type", STR, "病例类型", required=True, enum="case_type"),
        F("standard_payment", MONEY, "支付标准", required=True),
        F("actual_cost", MONEY, "实际费用", required=True),
        F("difference", MONEY, "差额(支付标准-实际费用)", required=True),
    ),
)

FINDING = Table(
    "finding",
    "审核结果",
    key=("jr_id",),
    doc="Mirrors the national 3101 result; one row per rule hit on a settlement.",
    fields=(
        F("jr_id", STR, "违规标识", required=True),
        F("rule_id", STR, "规则编号", required=True),
        F("rule_name", STR, "规则名称", required=True),
        F("vola_bhvr_type", STR, "违规行为分类", required=True, enum="vola_bhvr_type"),
        F("sev_deg", STR, "严重程度", required=True, enum="sev_deg"),
        F("setl_id", STR, "结算ID", required=True),
        F("mdtrt_id", STR, "就诊ID"),
        F("psn_no", STR, "人员编号", privacy="person"),
        F("medins_code", STR, "定点医药机构编号"),
        F("vola_amt", MONEY, "违规金额", required=True),
        F("vola_cont", STR, "违规内容", required=True),
        F("vola_evid", STR, "违规依据", required=True),
        F("detail", STR, "涉及明细", doc="feedetl_sn list or related setl_id list, separated by |"),
        F("stage", STR, "审核环节", required=True, enum="stage"),
    ),
)

WARNING = Table(
    "warning",
    "监测预警",
    fields=(
        F("level", STR, "预警层级", required=True, enum="warning_level"),
        F("subject", STR, "对象", required=True),
        F("indicator", STR, "指标", required=True),
        F("period", STR, "期间", required=True),
        F("value", FLOAT, "指标值"),
        F("peer_value", FLOAT, "同级值"),
        F("deviation", FLOAT, "偏离度"),
        F("severity", STR, "预警等级", required=True, enum="warning_severity"),
        F(
            "method",
            STR,
            "预警方法",
            doc="peer (同级偏离), history (自身历史) or anomaly (异常模型)",
        ),
        F("message", STR, "预警说明", required=True, doc="Chinese, with the numbers"),
        F("evidence", STR, "证据", doc="the groups and cases that drive the deviation"),
    ),
)

INPUT_TABLES: tuple[Table, ...] = (
    MEDINS,
    SETL_LIST,
    DISEINFO,
    OPRNINFO,
    ICUINFO,
    FEEDETAIL,
    MEDRCD,
    HILIST,
    *OUTPATIENT_TABLES,  # optional: cost shifting in monitoring
)
KNOWLEDGE_TABLES: tuple[Table, ...] = (
    DX_EVIDENCE,
    OPRN_EVIDENCE,
    DIAG_RESTRICTION,
    DIAG_EXCLUSIVE,
    ITEM_EXCLUSIVE,
    ITEM_BUNDLE,
    EXAM_INDICATION,
    PROCEDURE_INCISION,
    OUTPATIENT_TREATABLE,
    DRG_WEIGHT,
)
RESULT_TABLES: tuple[Table, ...] = (
    QC_ISSUE,
    DRG_RESULT,
    DRG_REGROUP,
    DIP_RESULT,
    PAYMENT,
    FINDING,
    WARNING,
)
BOOKKEEPING_TABLES: tuple[Table, ...] = (QUARANTINE, INGEST_BATCH, CASE_SCOPE, PIPELINE_RUN)

TABLES: dict[str, Table] = {
    t.name: t
    for t in INPUT_TABLES
    + KNOWLEDGE_TABLES
    + RESULT_TABLES
    + BOOKKEEPING_TABLES
    + KB_TABLES
    + QC_TABLES
    + PAYMENT_TABLES
    + AUDIT_TABLES
    + MONITOR_TABLES
}


def table(name: str) -> Table:
    """The canonical table called ``name`` (raises KeyError naming the known tables)."""
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; known: {', '.join(sorted(TABLES))}") from None
