"""Page builders: from the reader's rows to what a template shows (tables, charts, figures).

Each builder returns a :class:`Page`; the route renders it, or sends one of its tables as xlsx.
Charts are ECharts option objects built here, so the templates hold no data logic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from huiyan.audit.api import catalog
from huiyan.kb import config as kb_config
from huiyan.model import label
from huiyan.service.web import queries as Q
from huiyan.service.web.deps import Viewer
from huiyan.service.web.reader import Reader
from huiyan.service.web.tables import Col, TableData

# The rule library (every rule pack, and pandas under Arrow's row conversion) is loaded with
# the dashboard, not on the first view of the rules page: about a second.
catalog(kb_config.load(None)).to_pylist()

BLUE, ORANGE, GREEN, RED, GREY = "#2f6fb3", "#e8833a", "#3a9a5b", "#c8403a", "#8a96a3"


@dataclass
class Page:
    template: str
    title: str
    nav: str
    ctx: dict[str, Any] = field(default_factory=dict)
    tables: list[TableData] = field(default_factory=list)
    charts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def table(self, key: str) -> TableData | None:
        return next((t for t in self.tables if t.key == key), None)


def _f(v: Any) -> float | None:
    return None if v is None else round(float(v), 4)


def _lbl(enum: str, code: Any) -> str:
    return label(enum, code) if code not in (None, "") else "—"


def _text(viewer: Viewer, v: Any) -> Any:
    """Free text (违规内容) as this viewer may read it: phone and ID numbers masked unless the
    viewer may see personal data."""
    if viewer.personal or not isinstance(v, str):
        return v
    from huiyan.service.masking import mask_text

    return mask_text(v)


def inst_link(r: dict[str, Any]) -> str | None:
    return f"/institutions/{quote(r['medins_code'])}" if r.get("medins_code") else None


def finding_link(r: dict[str, Any]) -> str:
    return f"/findings/{quote(r['jr_id'])}"


def case_link(r: dict[str, Any]) -> str:
    return f"/cases/{quote(r['setl_id'])}"


# ---------------------------------------------------------------------------- charts
def _bar(
    names: list[str], series: list[tuple[str, list[Any], str]], *, links: dict | None = None
) -> dict:
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 60, "right": 20, "top": 36, "bottom": 60},
        "xAxis": {"type": "category", "data": names, "axisLabel": {"rotate": 30, "fontSize": 11}},
        "yAxis": {"type": "value"},
        "series": [{"name": n, "type": "bar", "data": d, "color": c} for n, d, c in series],
        "links": links or {},
    }


def _trend(months: list[str], series: list[tuple[str, list[Any], str, int]]) -> dict:
    two_axes = any(axis == 1 for *_x, axis in series)
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 60, "right": 60 if two_axes else 20, "top": 36, "bottom": 30},
        "xAxis": {"type": "category", "data": months},
        "yAxis": [{"type": "value"}] + ([{"type": "value", "scale": True}] if two_axes else []),
        "series": [
            {"name": n, "type": "line", "data": d, "color": c, "yAxisIndex": axis, "smooth": False}
            for n, d, c, axis in series
        ],
    }


# ---------------------------------------------------------------------------- overview
FINDING_CLASS_COLS = (
    Col("cls_name", "违规行为分类", link=lambda r: f"/findings?vola_bhvr_type={r['cls']}"),
    Col("n", "疑点数", "int"),
    Col("cases", "涉及病例", "int"),
    Col("amount", "疑点金额(元)", "money"),
    Col("violation_amt", "明确违规金额(元)", "money"),
)


def _class_rows(rows: list[dict]) -> list[dict]:
    return [{**r, "cls_name": _lbl("vola_bhvr_type", r["cls"])} for r in rows]


def overview(reader: Reader, viewer: Viewer) -> Page:
    scope = viewer.scope
    tot = reader.get(Q.totals, scope)
    months = reader.get(Q.monthly, scope)
    classes = _class_rows(reader.get(Q.findings_by_class, scope))
    fmon = {r["month"]: r for r in reader.get(Q.findings_monthly, scope)}
    qc = [
        {**r, "name": _lbl("qc_indicator", r["indicator"])} for r in reader.get(Q.qc_rates, scope)
    ]
    warns = reader.get(Q.warnings, scope)
    insts = reader.get(Q.institutions, scope)
    page = Page("overview.html.j2", "总览", "overview", ctx={"tot": tot, "qc": qc})
    mnames = [r["month"] for r in months]
    page.charts["trend_cost"] = _trend(
        mnames,
        [
            ("医疗总费用(万元)", [_f(r["cost"] / 10_000) for r in months], BLUE, 0),
            ("基金支付(万元)", [_f(r["fund"] / 10_000) for r in months], GREEN, 0),
            ("支付标准(万元)", [_f((r["std"] or 0) / 10_000) for r in months], ORANGE, 0),
        ],
    )
    page.charts["trend_cases"] = _trend(
        mnames,
        [
            ("病例数", [r["cases"] for r in months], BLUE, 0),
            ("CMI", [_f(r["cmi"]) for r in months], ORANGE, 1),
        ],
    )
    page.charts["trend_findings"] = _trend(
        mnames,
        [
            ("疑点数", [fmon.get(m, {}).get("n", 0) for m in mnames], RED, 0),
            (
                "疑点金额(万元)",
                [_f((fmon.get(m, {}).get("amount") or 0) / 10_000) for m in mnames],
                ORANGE,
                1,
            ),
        ],
    )
    page.charts["classes"] = _bar(
        [r["cls_name"] for r in classes],
        [
            ("疑点金额(元)", [_f(r["amount"]) for r in classes], ORANGE),
            ("明确违规金额(元)", [_f(r["violation_amt"]) for r in classes], RED),
        ],
        links={r["cls_name"]: f"/findings?vola_bhvr_type={r['cls']}" for r in classes},
    )
    page.charts["institutions"] = _bar(
        [r["medins_name"] or r["medins_code"] for r in insts],
        [("CMI", [_f(r["cmi"]) for r in insts], BLUE)],
        links={(r["medins_name"] or r["medins_code"]): inst_link(r) for r in insts},
    )
    page.tables.append(TableData("classes", "疑点按违规行为分类", FINDING_CLASS_COLS, classes))
    page.tables.append(
        TableData(
            "months",
            "逐月趋势",
            (
                Col("month", "出院月份"),
                Col("cases", "病例数", "int"),
                Col("cost", "医疗总费用(元)", "money"),
                Col("fund", "基金支付(元)", "money"),
                Col("std", "支付标准(元)", "money"),
                Col("cmi", "CMI", "num"),
            ),
            months,
        )
    )
    if warns:
        page.tables.append(warnings_table(warns))
    return page


def warnings_table(rows: list[dict]) -> TableData:
    rows = [
        {
            **r,
            "level_name": _lbl("warning_level", r["level"]),
            "sev_name": _lbl("warning_severity", r["severity"]),
            "medins_code": r["subject"] if r["level"] == "institution" else None,
        }
        for r in rows
    ]
    return TableData(
        "warnings",
        "监测预警",
        (
            Col("sev_name", "预警等级"),
            Col("level_name", "层级"),
            Col("subject", "对象", link=inst_link),
            Col("indicator", "指标"),
            Col("period", "期间"),
            Col("value", "指标值", "num"),
            Col("peer_value", "同级值", "num"),
            Col("deviation", "偏离度", "pct"),
        ),
        rows,
    )


# ---------------------------------------------------------------------------- institutions
INST_COLS = (
    Col("medins_name", "机构", link=inst_link),
    Col("lv_name", "等级"),
    Col("cases", "病例数", "int"),
    Col("cmi", "CMI", "num"),
    Col("peer_cmi", "同级CMI", "num"),
    Col("cost_index", "费用消耗指数", "num"),
    Col("time_index", "时间消耗指数", "num"),
    Col("avg_cost", "次均费用(元)", "money"),
    Col("cost", "医疗总费用(元)", "money"),
    Col("fund", "基金支付(元)", "money"),
    Col("diff", "结余(+)/超支(-)(元)", "money"),
    Col("qc_pass", "质控通过率", "pct"),
    Col("findings", "疑点数", "int"),
    Col("finding_amt", "疑点金额(元)", "money"),
)


def _inst_rows(rows: list[dict]) -> list[dict]:
    return [
        {
            **r,
            "lv_name": _lbl("medins_lv", r["medins_lv"]),
            "medins_name": r["medins_name"] or r["medins_code"],
        }
        for r in rows
    ]


def institutions(reader: Reader, viewer: Viewer) -> Page:
    rows = _inst_rows(reader.get(Q.institutions, viewer.scope))
    page = Page("institutions.html.j2", "机构", "institutions")
    page.tables.append(
        TableData(
            "institutions",
            "定点医疗机构对比 (同级 = 同一医院等级)",
            INST_COLS,
            rows,
            note="费用/时间消耗指数: 各DRG组本院费用(住院日)与全区该组均值之比, 按病例加权; 1 为全区平均。",
        )
    )
    names = [r["medins_name"] for r in rows]
    links = {r["medins_name"]: inst_link(r) for r in rows}
    page.charts["indices"] = _bar(
        names,
        [
            ("CMI", [_f(r["cmi"]) for r in rows], BLUE),
            ("费用消耗指数", [_f(r["cost_index"]) for r in rows], ORANGE),
            ("时间消耗指数", [_f(r["time_index"]) for r in rows], GREEN),
        ],
        links=links,
    )
    page.charts["balance"] = _bar(
        names,
        [("结余(+)/超支(-)(万元)", [_f((r["diff"] or 0) / 10_000) for r in rows], RED)],
        links=links,
    )
    return page


GROUP_COLS = (
    Col("grp", "DRG/DIP组", "code"),
    Col("cases", "病例数", "int"),
    Col("weight", "权重/分值", "num"),
    Col("avg_cost", "例均费用(元)", "money"),
    Col("avg_std", "例均支付标准(元)", "money"),
    Col("norm_cost", "全区例均费用(元)", "money"),
    Col("balance", "结余(+)/超支(-)(元)", "money"),
    Col("avg_los", "平均住院日", "num"),
    Col("norm_los", "全区平均住院日", "num"),
    Col("cv", "变异系数", "num"),
    Col("stable", "稳定病组"),
)


def institution(reader: Reader, viewer: Viewer, code: str) -> Page | None:
    if not viewer.may_see(code):
        return None
    rows = _inst_rows(reader.get(Q.institutions, code))
    if not rows:
        return None
    me = rows[0]
    months = reader.get(Q.monthly, code)
    groups = reader.get(Q.institution_groups, code, 5000)
    classes = _class_rows(reader.get(Q.findings_by_class, code))
    qc = [{**r, "name": _lbl("qc_indicator", r["indicator"])} for r in reader.get(Q.qc_rates, code)]
    warns = reader.get(Q.warnings, code)
    page = Page("institution.html.j2", me["medins_name"], "institutions", ctx={"me": me, "qc": qc})
    region = reader.get(Q.totals, None)
    page.charts["peers"] = _bar(
        ["CMI", "费用消耗指数", "时间消耗指数"],
        [
            ("本院", [_f(me["cmi"]), _f(me["cost_index"]), _f(me["time_index"])], BLUE),
            (
                f"同级({me['lv_name']}, {me['peer_n']}家)",
                [_f(me["peer_cmi"]), _f(me["peer_cost_index"]), _f(me["peer_time_index"])],
                GREY,
            ),
            (
                "全区",
                [_f(region["cmi"]), _f(region["cost_index"]), _f(region["time_index"])],
                ORANGE,
            ),
        ],
    )
    top = sorted(groups, key=lambda r: float(r["balance"] or 0))[:15]
    page.charts["groups"] = _bar(
        [r["grp"] for r in top],
        [("结余(+)/超支(-)(元)", [_f(r["balance"]) for r in top], RED)],
        links={r["grp"]: f"/groups?grp={quote(r['grp'])}" for r in top},
    )
    page.charts["trend"] = _trend(
        [r["month"] for r in months],
        [
            ("医疗总费用(万元)", [_f(r["cost"] / 10_000) for r in months], BLUE, 0),
            ("支付标准(万元)", [_f((r["std"] or 0) / 10_000) for r in months], ORANGE, 0),
            ("CMI", [_f(r["cmi"]) for r in months], GREEN, 1),
        ],
    )
    page.tables.append(TableData("groups", "本院DRG/DIP组 (费用与支付标准)", GROUP_COLS, groups))
    cls_cols = (
        Col(
            "cls_name",
            "违规行为分类",
            link=lambda r: f"/findings?vola_bhvr_type={r['cls']}&medins_code={quote(code)}",
        ),
        *FINDING_CLASS_COLS[1:],
    )
    page.tables.append(TableData("classes", "疑点按违规行为分类", cls_cols, classes))
    if warns:
        page.tables.append(warnings_table(warns))
    return page


def groups(reader: Reader, viewer: Viewer, grp: str = "") -> Page:
    rows = reader.get(Q.institution_groups, viewer.scope, 5000)
    if grp:
        rows = [r for r in rows if r["grp"] == grp]
    page = Page("groups.html.j2", "病组", "groups", ctx={"grp": grp})
    title = "DRG/DIP组 " + ("(本院)" if viewer.scope else "(全区)")
    page.tables.append(TableData("groups", title, GROUP_COLS, rows))
    top = sorted(rows, key=lambda r: -r["cases"])[:20]
    page.charts["cost_vs_std"] = {
        **_bar(
            [r["grp"] for r in top],
            [
                ("例均费用(元)", [_f(r["avg_cost"]) for r in top], BLUE),
                ("例均支付标准(元)", [_f(r["avg_std"]) for r in top], ORANGE),
            ],
        )
    }
    return page


# ---------------------------------------------------------------------------- findings
FINDING_COLS = (
    Col("jr_id", "违规标识", "code", link=finding_link),
    Col("rule_id", "规则", "code"),
    Col("rule_name", "规则名称"),
    Col("cls_name", "违规行为分类"),
    Col("sev_name", "严重程度"),
    Col("medins_name", "机构"),
    Col("setl_id", "结算ID", "code", link=case_link),
    Col("vola_amt", "金额(元)", "money"),
    Col("vola_cont", "违规内容"),
)

FINDING_FILTERS = ("rule_id", "vola_bhvr_type", "sev_deg", "medins_code", "min_amt")


def finding_filters(params: dict[str, str], viewer: Viewer) -> tuple[tuple[str, Any], ...]:
    f: dict[str, Any] = {k: params.get(k, "").strip() for k in FINDING_FILTERS}
    if f["min_amt"]:
        try:
            f["min_amt"] = float(f["min_amt"])
        except ValueError:
            f["min_amt"] = ""
    if viewer.scope:
        f["medins_code"] = viewer.scope
    return tuple(sorted((k, v) for k, v in f.items() if v not in ("", None)))


def findings(
    reader: Reader, viewer: Viewer, params: dict[str, str], *, everything: bool = False
) -> Page:
    filters = finding_filters(params, viewer)
    try:
        page_no = max(1, int(params.get("page", "1")))
    except ValueError:
        page_no = 1
    total, rows = reader.get(Q.findings, filters, viewer.scope, 0 if everything else page_no)
    names = reader.get(Q.medins_names)
    rows = [
        {
            **r,
            "cls_name": _lbl("vola_bhvr_type", r["vola_bhvr_type"]),
            "sev_name": _lbl("sev_deg", r["sev_deg"]),
            "medins_name": names.get(r["medins_code"], r["medins_code"]),
            "vola_cont": _text(viewer, r["vola_cont"]),
        }
        for r in rows
    ]
    pages = max(1, -(-total // Q.FINDING_PAGE))
    query = urlencode([(k, v) for k, v in filters if not (viewer.scope and k == "medins_code")])
    from huiyan.model import enums

    page = Page(
        "findings.html.j2",
        "疑点",
        "findings",
        ctx={
            "filters": dict(filters),
            "total": total,
            "page_no": page_no,
            "pages": pages,
            "query": query,
            "classes": enums()["vola_bhvr_type"],
            "sevs": enums()["sev_deg"],
            "institutions": names if not viewer.scope else {},
            "partial_template": "findings_results.html.j2",
        },
    )
    page.tables.append(TableData("findings", "审核疑点", FINDING_COLS, rows))
    return page


def _evidence_keys(detail: str | None) -> set[str]:
    return {d.strip() for d in (detail or "").split("|") if d.strip()}


def case_page(
    reader: Reader, viewer: Viewer, setl_id: str, *, highlight: set[str] | None = None
) -> Page | None:
    data = reader.get(Q.case, setl_id)
    if not data or not viewer.may_see(data["setl"].get("medins_code")):
        return None
    names = reader.get(Q.medins_names)
    s = data["setl"]
    ev = set(highlight or set())
    if highlight is None:
        for f in data["findings"]:
            ev |= _evidence_keys(f.get("detail"))
    fees = [
        {
            **r,
            "day": str(r["fee_ocur_time"])[:10] if r.get("fee_ocur_time") else "—",
            "evidence": r["feedetl_sn"] in ev,
        }
        for r in data["fees"]
    ]
    days: dict[str, float] = {}
    for r in fees:
        days[r["day"]] = days.get(r["day"], 0.0) + float(r["det_item_fee_sumamt"] or 0)
    ev_days: dict[str, float] = {}
    for r in fees:
        if r["evidence"]:
            ev_days[r["day"]] = ev_days.get(r["day"], 0.0) + float(r["det_item_fee_sumamt"] or 0)
    page = Page(
        "case.html.j2",
        f"病例 {setl_id}",
        "findings",
        ctx={
            "s": s,
            "medins_name": names.get(s.get("medins_code"), s.get("medins_code")),
            "gend": _lbl("gend", s.get("gend")),
            "drg": [{**g, "status_name": _lbl("group_status", g["status"])} for g in data["drg"]],
            "dip": data["dip"],
            "related": sorted(k for k in ev if k.startswith("S")),
        },
    )
    page.charts["days"] = _bar(
        sorted(days),
        [
            ("当日费用(元)", [round(days[d], 2) for d in sorted(days)], BLUE),
            ("其中涉及疑点(元)", [round(ev_days.get(d, 0.0), 2) for d in sorted(days)], RED),
        ],
    )
    page.tables.append(
        TableData(
            "diagnoses",
            "诊断",
            (
                Col("diag_srt_no", "序号"),
                Col("diag_code", "诊断编码", "code"),
                Col("diag_name", "诊断名称"),
                Col("maindiag_flag", "主诊断"),
                Col("adm_cond_type", "入院病情"),
            ),
            [
                {
                    **r,
                    "maindiag_flag": _lbl("flag", r.get("maindiag_flag")),
                    "adm_cond_type": _lbl("adm_cond_type", r.get("adm_cond_type")),
                }
                for r in data["diseinfo"]
            ],
        )
    )
    page.tables.append(
        TableData(
            "procedures",
            "手术操作",
            (
                Col("oprn_oprt_code", "手术操作编码", "code"),
                Col("oprn_oprt_name", "名称"),
                Col("main_oprn_flag", "主手术"),
                Col("oprn_oprt_date", "日期", "date"),
            ),
            [
                {**r, "main_oprn_flag": _lbl("flag", r.get("main_oprn_flag"))}
                for r in data["oprninfo"]
            ],
        )
    )
    page.tables.append(
        TableData(
            "medrcd",
            "病案首页 (诊断与手术操作)",
            (
                Col("rec_type_name", "类别"),
                Col("srt_no", "序号"),
                Col("code", "编码", "code"),
                Col("name", "名称"),
                Col("main_flag", "主诊断/主手术"),
                Col("adm_cond_type", "入院病情"),
            ),
            [
                {
                    **r,
                    "rec_type_name": _lbl("medrcd_rec_type", r.get("rec_type")),
                    "main_flag": _lbl("flag", r.get("main_flag")),
                    "adm_cond_type": _lbl("adm_cond_type", r.get("adm_cond_type")),
                }
                for r in data["medrcd"]
            ],
            note="与结算清单不一致的编码是编码质量与高套分组的线索。",
        )
    )
    page.tables.append(
        TableData(
            "payment",
            "支付",
            (
                Col("method", "支付方式"),
                Col("group", "组"),
                Col("weight_or_score", "权重/分值", "num"),
                Col("case_type_name", "病例类型"),
                Col("standard_payment", "支付标准(元)", "money"),
                Col("actual_cost", "实际费用(元)", "money"),
                Col("difference", "差额(元)", "money"),
            ),
            [{**r, "case_type_name": _lbl("case_type", r["case_type"])} for r in data["payment"]],
        )
    )
    page.tables.append(
        TableData(
            "qc",
            "质控问题",
            (Col("check_id", "规则", "code"), Col("field", "字段"), Col("message", "问题描述")),
            data["qc"],
        )
    )
    page.tables.append(
        TableData(
            "case_findings",
            "审核疑点",
            (
                Col("jr_id", "违规标识", "code", link=finding_link),
                Col("rule_name", "规则"),
                Col("vola_amt", "金额(元)", "money"),
                Col("vola_cont", "违规内容"),
            ),
            [{**r, "vola_cont": _text(viewer, r["vola_cont"])} for r in data["findings"]],
        )
    )
    fee_cols = (
        Col("day", "日期"),
        Col("feedetl_sn", "流水号", "code"),
        Col("med_list_codg", "医保目录编码", "code"),
        Col("med_list_name", "名称"),
        Col("cnt", "数量", "num"),
        Col("pric", "单价", "money"),
        Col("det_item_fee_sumamt", "金额(元)", "money"),
    )
    evidence = [r for r in fees if r["evidence"]]
    if evidence:
        page.tables.insert(0, TableData("evidence", "疑点涉及的费用明细", fee_cols, evidence))
    page.tables.append(
        TableData(
            "fees",
            "费用明细 (红色: 疑点涉及的明细)",
            fee_cols,
            fees,
            highlight=lambda r: bool(r.get("evidence")),
        )
    )
    return page


def finding_page(reader: Reader, viewer: Viewer, jr_id: str) -> Page | None:
    f = reader.get(Q.finding, jr_id)
    if not f or not viewer.may_see(f.get("medins_code")):
        return None
    page = case_page(reader, viewer, f["setl_id"], highlight=_evidence_keys(f.get("detail")))
    if page is None:
        return None
    page.template = "finding.html.j2"
    page.title = f"疑点 {jr_id}"
    page.ctx["f"] = {
        **f,
        "cls_name": _lbl("vola_bhvr_type", f["vola_bhvr_type"]),
        "sev_name": _lbl("sev_deg", f["sev_deg"]),
        "stage_name": _lbl("stage", f["stage"]),
        "vola_cont": _text(viewer, f["vola_cont"]),
    }
    return page


# ---------------------------------------------------------------------------- rules
def rules(reader: Reader, viewer: Viewer, config: dict[str, Any]) -> Page:
    hits = reader.get(Q.rule_hits, viewer.scope)
    rows = []
    for r in catalog(config).to_pylist():
        h = hits.get(r["rule_id"], {})
        rows.append(
            {
                **r,
                "n": h.get("n", 0),
                "amount": h.get("amount"),
                "institutions": h.get("institutions", 0),
            }
        )
    page = Page("rules.html.j2", "规则", "rules")
    page.tables.append(
        TableData(
            "rules",
            "审核规则库",
            (
                Col(
                    "rule_id",
                    "规则编号",
                    "code",
                    link=lambda r: f"/findings?rule_id={quote(r['rule_id'])}",
                ),
                Col("rule_name", "规则名称"),
                Col("class_name", "违规行为分类"),
                Col("sev_deg", "严重程度"),
                Col("stages", "审核环节"),
                Col("enabled", "启用"),
                Col("params", "参数"),
                Col("n", "命中数", "int"),
                Col("institutions", "涉及机构", "int"),
                Col("amount", "疑点金额(元)", "money"),
                Col("vola_evid", "政策依据"),
            ),
            rows,
        )
    )
    return page


# ---------------------------------------------------------------------------- settlement
KIND_NAMES = {"monthly": "月度预结算", "year_end": "年终清算"}


def settlement(reader: Reader, viewer: Viewer, period: str = "", kind: str = "") -> Page:
    periods = reader.get(Q.settlement_periods)
    if periods and not any(p["period"] == period and p["kind"] == kind for p in periods):
        period, kind = periods[0]["period"], periods[0]["kind"]
    rows = reader.get(Q.settlement, period, kind, viewer.scope) if periods else []
    pool = reader.get(Q.settlement_pool, period, kind) if periods and not viewer.scope else {}
    page = Page(
        "settlement.html.j2",
        "结算",
        "settlement",
        ctx={
            "periods": [
                {**p, "name": f"{p['period']} {KIND_NAMES.get(p['kind'], p['kind'])}"}
                for p in periods
            ],
            "period": period,
            "kind": kind,
            "pool": pool,
        },
    )
    rows = [
        {**r, "medins_name": r.get("medins_name") or r["medins_code"], "notice": "打印"}
        for r in rows
    ]
    page.tables.append(
        TableData(
            "settlement",
            f"{period} {KIND_NAMES.get(kind, kind)} 机构结算",
            (
                Col("medins_name", "机构", link=inst_link),
                Col(
                    "notice",
                    "通知单",
                    link=lambda r: (
                        f"/settlement/notice?period={quote(period)}&kind={quote(kind)}"
                        f"&medins_code={quote(r['medins_code'])}"
                    ),
                ),
                Col("cases", "病例数", "int"),
                Col("standard_amt", "支付标准合计(元)", "money"),
                Col("actual_cost", "实际医疗费用(元)", "money"),
                Col("patient_share", "患者负担(元)", "money"),
                Col("clearing_adj", "结余留用/超支分担(元)", "money"),
                Col("deduction", "违规扣减(元)", "money"),
                Col("fund_due", "基金应付(元)", "money"),
                Col("prepaid", "已预付(元)", "money"),
                Col("paid", "本次拨付(元)", "money"),
                Col("withheld", "暂扣(元)", "money"),
                Col("redistributed", "再分配所得(元)", "money"),
            ),
            rows,
        )
    )
    page.charts["paid"] = _bar(
        [r["medins_name"] for r in rows],
        [
            ("基金应付(万元)", [_f((r["fund_due"] or 0) / 10_000) for r in rows], BLUE),
            ("本次拨付(万元)", [_f((r["paid"] or 0) / 10_000) for r in rows], GREEN),
            ("违规扣减(万元)", [_f((r["deduction"] or 0) / 10_000) for r in rows], RED),
        ],
        links={r["medins_name"]: inst_link(r) for r in rows},
    )
    return page


# ---------------------------------------------------------------------------- warnings
def warnings(reader: Reader, viewer: Viewer) -> Page:
    rows = reader.get(Q.warnings, viewer.scope, 5000)
    counts = reader.get(Q.warning_counts, viewer.scope)
    page = Page("warnings.html.j2", "监测预警", "warnings")
    page.tables.append(warnings_table(rows))
    indicators = sorted({r["indicator"] for r in counts})
    by = {(r["indicator"], r["severity"]): r["n"] for r in counts}
    page.charts["counts"] = _bar(
        indicators,
        [
            (_lbl("warning_severity", sev), [by.get((i, sev), 0) for i in indicators], color)
            for sev, color in (("high", RED), ("medium", ORANGE), ("low", GREY))
        ],
    )
    return page


def notice(reader: Reader, viewer: Viewer, period: str, kind: str, code: str) -> Page | None:
    """A printable settlement notice (结算通知单) for one institution."""
    if not viewer.may_see(code):
        return None
    data = reader.get(Q.settlement_notice, period, kind, code)
    if not data:
        return None
    row = {**data["row"], "medins_name": data["row"].get("medins_name") or code}
    page = Page(
        "notice.html.j2",
        f"{row['medins_name']} {period} {KIND_NAMES.get(kind, kind)}通知单",
        "settlement",
        ctx={"r": row, "kind_name": KIND_NAMES.get(kind, kind), "period": period},
    )
    page.tables.append(
        TableData(
            "deductions",
            "违规扣减病例",
            (
                Col("setl_id", "结算ID", "code", link=case_link),
                Col("case_type_name", "病例类型"),
                Col("fund_due", "基金应付(元)", "money"),
                Col("deduction", "违规扣减(元)", "money"),
            ),
            [{**c, "case_type_name": _lbl("case_type", c["case_type"])} for c in data["cases"]],
        )
    )
    return page
