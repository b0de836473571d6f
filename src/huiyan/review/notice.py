"""审核结果通知书: the per-hospital notice of confirmed items, amounts, policy basis and appeal outcome.

Written as an Excel workbook, a printable HTML page and a PDF. The PDF uses reportlab's
built-in Adobe CID font STSong-Light: Chinese text without shipping a font file (the reader
supplies the glyphs; the text stays searchable and extractable).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import xlsxwriter
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from huiyan.review.config import reasons
from huiyan.review.db import Appeal, ReviewItem
from huiyan.review.workflow import DEDUCTED, OUTCOMES, STATES, yuan

COLUMNS = {
    "jr_id": "违规标识",
    "setl_id": "结算ID",
    "rule_id": "规则编号",
    "rule_name": "规则名称",
    "vola_cont": "违规内容",
    "vola_evid": "政策依据",
    "vola_amt": "违规金额(元)",
    "outcome": "审核结论",
    "amount": "确认扣减(元)",
    "reason": "理由",
    "appeal": "申诉情况",
}


@dataclass
class Notice:
    medins_code: str
    issued: dt.date
    rows: list[dict[str, Any]] = field(default_factory=list)
    pending: int = 0  # items still in the workflow, not in this notice

    @property
    def total(self) -> Decimal:
        return sum((Decimal(r["amount"]) for r in self.rows), Decimal("0.00"))


def build(session: Session, medins_code: str, *, today: dt.date | None = None) -> Notice:
    """The notice of one hospital: every item in 终审 with a deduction, with its appeal outcome."""
    items = session.scalars(
        select(ReviewItem)
        .where(ReviewItem.medins_code == medins_code)
        .order_by(ReviewItem.rule_id, ReviewItem.setl_id, ReviewItem.id)
    ).all()
    appealed = set(session.scalars(select(Appeal.item_id).where(Appeal.medins_code == medins_code)))
    notice = Notice(medins_code, today or dt.date.today())
    codes = reasons()
    for i in items:
        if i.state != "final":
            notice.pending += 1
            continue
        if i.final_outcome not in DEDUCTED:
            continue
        if i.id in appealed:
            appeal = "已申诉, 复审" + OUTCOMES[i.final_outcome or "confirmed"]
        elif i.initial_outcome and i.final_note and "申诉期满" in i.final_note:
            appeal = "申诉期满未申诉"
        else:
            appeal = "未申诉"
        notice.rows.append(
            {
                "jr_id": i.jr_id,
                "setl_id": i.setl_id,
                "rule_id": i.rule_id,
                "rule_name": i.rule_name,
                "vola_cont": i.vola_cont,
                "vola_evid": i.vola_evid,
                "vola_amt": str(yuan(i.vola_amt_fen)),
                "outcome": OUTCOMES[i.final_outcome or "confirmed"]
                + ("(自动)" if i.auto_confirmed else ""),
                "amount": str(yuan(i.final_amount_fen)),
                "reason": codes.get(i.final_reason or i.initial_reason or "", ""),
                "appeal": appeal,
            }
        )
    return notice


def to_xlsx(notice: Notice) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("审核结果通知书")
    bold = wb.add_format({"bold": True})
    money = wb.add_format({"num_format": "#,##0.00"})
    ws.write(
        0, 0, f"审核结果通知书  机构 {notice.medins_code}  日期 {notice.issued.isoformat()}", bold
    )
    ws.write(
        1,
        0,
        f"确认扣减合计(元): {notice.total}  条数: {len(notice.rows)}  尚在复核中: {notice.pending}",
    )
    for c, label in enumerate(COLUMNS.values()):
        ws.write(3, c, label, bold)
    for r, row in enumerate(notice.rows, start=4):
        for c, key in enumerate(COLUMNS):
            v = row[key]
            if key in ("vola_amt", "amount"):
                ws.write_number(
                    r, c, float(v), money
                )  # display only; the text total above is exact
            else:
                ws.write(r, c, v)
    ws.set_column(0, 3, 14)
    ws.set_column(4, 5, 40)
    ws.set_column(6, 10, 14)
    wb.close()
    return buf.getvalue()


_ENV = Environment(
    loader=PackageLoader("huiyan.review", "templates"), autoescape=select_autoescape(["html", "j2"])
)


def to_html(notice: Notice) -> str:
    return _ENV.get_template("notice.html.j2").render(notice=notice, columns=COLUMNS, states=STATES)


_PDF_FONT = "STSong-Light"
# Relative widths of COLUMNS in the PDF table (the two long texts get most of the page).
_PDF_WIDTHS = (7, 7, 6, 9, 18, 14, 6, 6, 6, 7, 10)


def to_pdf(notice: Notice) -> bytes:
    """The notice as an A4 landscape PDF (title, summary, one table row per item, seal line)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    if _PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(_PDF_FONT))
    body = ParagraphStyle("body", fontName=_PDF_FONT, fontSize=10, leading=14, wordWrap="CJK")
    cell = ParagraphStyle("cell", parent=body, fontSize=7.5, leading=9.5)
    num = ParagraphStyle("num", parent=cell, alignment=2)
    title = ParagraphStyle("title", parent=body, fontSize=18, leading=24, alignment=1)
    sign = ParagraphStyle("sign", parent=body, alignment=2)

    def p(text: object, style: ParagraphStyle = cell) -> Paragraph:
        return Paragraph(escape(str(text)), style)

    buf = io.BytesIO()
    page = landscape(A4)
    doc = SimpleDocTemplate(
        buf,
        pagesize=page,
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=f"审核结果通知书 {notice.medins_code}",
    )
    summary = (
        f"经审核及复核, 贵机构以下费用确认违规, 将在结算中扣减。确认扣减合计 {notice.total} 元, "
        f"共 {len(notice.rows)} 条"
    )
    if notice.pending:
        summary += f"; 另有 {notice.pending} 条尚在复核中, 结论另行通知"
    data: list[list[Paragraph]] = [[p(label) for label in COLUMNS.values()]]
    for row in notice.rows:
        data.append([p(row[k], num if k in ("vola_amt", "amount") else cell) for k in COLUMNS])
    if not notice.rows:
        data.append([p("无确认扣减项目")] + [p("") for _ in range(len(COLUMNS) - 1)])
    width = page[0] - 24 * mm
    table = Table(
        data,
        colWidths=[width * w / sum(_PDF_WIDTHS) for w in _PDF_WIDTHS],
        repeatRows=1,
    )
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
            + ([("SPAN", (0, 1), (-1, 1))] if not notice.rows else [])
        )
    )
    doc.build(
        [
            p("审核结果通知书", title),
            Spacer(1, 4 * mm),
            p(f"定点医疗机构: {notice.medins_code}", body),
            p(summary + "。", body),
            Spacer(1, 3 * mm),
            table,
            Spacer(1, 10 * mm),
            p("医疗保障局 (盖章)", sign),
            p(notice.issued.isoformat(), sign),
        ]
    )
    return buf.getvalue()
