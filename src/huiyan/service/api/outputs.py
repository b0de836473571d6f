"""``/outputs``: decided deductions, rule quality, case data and exports (desensitised, logged)."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select

from huiyan.report.safe import neutralise
from huiyan.review import auditlog, workflow
from huiyan.review.db import ReviewItem
from huiyan.service.api.common import item_json, sees_personal
from huiyan.service.auth import Principal
from huiyan.service.deps import CurrentUser, Db, require_role
from huiyan.service.masking import mask_rows

router = APIRouter(prefix="/outputs", tags=["outputs"])
Reader = Annotated[Principal, Depends(require_role("admin", "auditor", "viewer"))]


@router.get("/snapshot")
def snapshot(request: Request, user: CurrentUser) -> dict[str, Any]:
    snap = request.app.state.store.snapshot
    return {"snapshot": snap.name if snap else None}


@router.get("/deductions")
def deductions(db: Db, user: CurrentUser) -> dict[str, Any]:
    """Finally decided deductions per hospital (what ``huiyan settle --state`` deducts)."""
    if user.role == "expert":
        raise workflow.Forbidden("当前角色无权访问")
    code = user.medins_code if user.role == "hospital" else None
    rows = workflow.decided_findings(db, medins_code=code)
    by: dict[str, dict[str, Any]] = {}
    for r in rows:
        d = by.setdefault(
            r["medins_code"], {"medins_code": r["medins_code"], "items": 0, "amount_fen": 0}
        )
        d["items"] += 1
        d["amount_fen"] += workflow.fen(r["vola_amt"])
    out = [
        {
            "medins_code": d["medins_code"],
            "items": d["items"],
            "amount": str(workflow.yuan(d["amount_fen"])),
        }
        for d in sorted(by.values(), key=lambda d: d["medins_code"])
    ]
    return {"hospitals": out}


@router.get("/rule-quality")
def rule_quality(
    request: Request, db: Db, user: Reader, period: str | None = None
) -> list[dict[str, Any]]:
    return workflow.rule_quality(db, request.app.state.policy, period=period)


@router.get("/cases/{setl_id}")
def case(setl_id: str, request: Request, user: CurrentUser) -> dict[str, Any]:
    """One settlement from the published snapshot with its findings (desensitised)."""
    store = request.app.state.store
    rows = (
        store.query("select * from setl_list where setl_id = ?", [setl_id])
        if store.has("setl_list")
        else []
    )
    if not rows or (user.role == "hospital" and rows[0].get("medins_code") != user.medins_code):
        raise workflow.NotFound(f"结算 {setl_id} 不存在")
    if user.role == "expert":
        raise workflow.Forbidden("当前角色无权访问")
    findings = (
        store.query("select * from finding where setl_id = ? order by jr_id", [setl_id])
        if store.has("finding")
        else []
    )
    data = {"settlement": rows[0], "findings": findings}
    if not sees_personal(user):
        key = request.app.state.pseudonym_key
        data = {
            "settlement": mask_rows([rows[0]], key, "setl_list")[0],
            "findings": mask_rows(findings, key, "finding"),
        }
    return data


@router.get("/export.csv")
def export(
    request: Request, db: Db, user: CurrentUser, state: str | None = None, personal: bool = False
) -> Response:
    """Review items as CSV (UTF-8 with BOM for Excel). Desensitised unless the role allows
    personal data and ``personal=true`` is asked for; every export is audit-logged."""
    if user.role == "expert":
        raise workflow.Forbidden("当前角色无权导出")
    q = workflow.visible(select(ReviewItem), user).order_by(ReviewItem.id)
    if state:
        q = q.where(ReviewItem.state == state)
    items = db.scalars(q).all()
    clear = personal and sees_personal(user)
    rows = []
    for i in items:
        r = item_json(i, user, request)
        if not clear and sees_personal(user):
            r = mask_rows([r], request.app.state.pseudonym_key)[0]
        rows.append(r)
    buf = io.StringIO()
    buf.write("\ufeff")
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(rows[0]))
        w.writeheader()
        # A cell starting with = + - @ would run as a formula in Excel (CSV injection).
        w.writerows(
            {k: neutralise(v) if isinstance(v, str) else v for k, v in r.items()} for r in rows
        )
    with request.app.state.write_session() as log_db:
        auditlog.append(
            log_db,
            actor=user.username,
            action="export",
            object_type="review_items",
            object_id=user.medins_code or "*",
            detail={"rows": len(rows), "personal": clear, "state": state},
        )
        log_db.commit()
    return Response(
        buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="review_items.csv"'},
    )


@router.get("/notices/{medins_code}")
def notice(
    medins_code: str, request: Request, db: Db, user: CurrentUser, format: str = "html"
) -> Response:
    """审核结果通知书 of one hospital: ``format=html`` (printable), ``pdf`` or ``xlsx``; logged."""
    from huiyan.review import notice as notices

    if user.role == "expert":
        raise workflow.Forbidden("当前角色无权访问")
    if user.role == "hospital" and medins_code != user.medins_code:
        raise workflow.NotFound(f"机构 {medins_code} 不存在")
    if format not in ("html", "pdf", "xlsx"):
        raise workflow.Invalid("format 应为 html、pdf 或 xlsx")
    n = notices.build(db, medins_code)
    with request.app.state.write_session() as log_db:
        auditlog.append(
            log_db,
            actor=user.username,
            action="export",
            object_type="notice",
            object_id=medins_code,
            detail={"rows": len(n.rows), "format": format},
        )
        log_db.commit()
    if format == "xlsx":
        return Response(
            notices.to_xlsx(n),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="notice_{medins_code}.xlsx"'},
        )
    if format == "pdf":
        return Response(
            notices.to_pdf(n),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="notice_{medins_code}.pdf"'},
        )
    return Response(notices.to_html(n), media_type="text/html; charset=utf-8")
