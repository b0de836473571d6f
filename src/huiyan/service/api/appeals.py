"""Hospital side: appeal (申诉) with attachments, or accept the initial decision."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel
from sqlalchemy import select

from huiyan.review import workflow
from huiyan.review.db import Appeal, Attachment, ReviewItem
from huiyan.service.api.common import item_json
from huiyan.service.auth import Principal
from huiyan.service.deps import CurrentUser, Db, require_role
from huiyan.service.masking import mask_text

router = APIRouter(tags=["appeals"])
Hospital = Annotated[Principal, Depends(require_role("hospital"))]


class AppealIn(BaseModel):
    text: str


def _appeal_json(a: Appeal, atts: list[Attachment], user: Principal) -> dict[str, Any]:
    return {
        "id": a.id,
        "item_id": a.item_id,
        "medins_code": a.medins_code,
        "text": a.text if user.can_see_personal or user.role == "hospital" else mask_text(a.text),
        "created_at": a.created_at.isoformat(),
        "attachments": [
            {
                "id": t.id,
                "filename": t.filename,
                "content_type": t.content_type,
                "size": t.size,
                "sha256": t.sha256,
            }
            for t in atts
        ],
    }


@router.post("/reviews/{item_id}/appeal")
def appeal(
    item_id: int, body: AppealIn, request: Request, db: Db, user: Hospital
) -> dict[str, Any]:
    a = workflow.appeal(db, user, item_id, body.text, today=request.app.state.today())
    db.commit()
    return _appeal_json(a, [], user)


@router.post("/reviews/{item_id}/accept")
def accept(item_id: int, request: Request, db: Db, user: Hospital) -> dict[str, Any]:
    item = workflow.accept(db, user, item_id)
    db.commit()
    return item_json(item, user, request)


@router.post("/reviews/{item_id}/attachments")
async def upload(
    item_id: int, request: Request, user: Hospital, file: Annotated[UploadFile, File()]
) -> dict[str, Any]:
    state = request.app.state
    limit = state.policy.attachment_max_bytes
    data = await file.read(limit + 1)
    with state.write_session() as db:
        att = workflow.add_attachment(
            db,
            user,
            item_id,
            filename=file.filename or "attachment",
            content_type=file.content_type or "application/octet-stream",
            data=data,
            directory=state.settings.attachment_dir,
            policy=state.policy,
        )
        db.commit()
        return {"id": att.id, "filename": att.filename, "size": att.size, "sha256": att.sha256}


def _visible_appeal(db: Db, user: Principal, appeal_id: int) -> Appeal:
    a = db.get(Appeal, appeal_id)
    if a is None:
        raise workflow.NotFound(f"申诉 {appeal_id} 不存在")
    workflow.get_item(db, user, a.item_id)  # 404 when the item is not the user's
    return a


@router.get("/appeals")
def list_appeals(db: Db, user: CurrentUser) -> list[dict[str, Any]]:
    items = workflow.visible(select(ReviewItem.id), user)
    appeals = db.scalars(select(Appeal).where(Appeal.item_id.in_(items)).order_by(Appeal.id)).all()
    atts: dict[int, list[Attachment]] = {}
    if appeals:
        for t in db.scalars(
            select(Attachment).where(Attachment.appeal_id.in_([a.id for a in appeals]))
        ):
            atts.setdefault(t.appeal_id, []).append(t)
    return [_appeal_json(a, atts.get(a.id, []), user) for a in appeals]


@router.get("/appeals/{appeal_id}")
def get_appeal(appeal_id: int, db: Db, user: CurrentUser) -> dict[str, Any]:
    a = _visible_appeal(db, user, appeal_id)
    atts = db.scalars(select(Attachment).where(Attachment.appeal_id == a.id)).all()
    return _appeal_json(a, list(atts), user)


@router.get("/attachments/{attachment_id}")
def download(attachment_id: int, request: Request, db: Db, user: CurrentUser) -> FileResponse:
    t = db.get(Attachment, attachment_id)
    if t is None:
        raise workflow.NotFound(f"附件 {attachment_id} 不存在")
    _visible_appeal(db, user, t.appeal_id)
    path = workflow.attachment_path(request.app.state.settings.attachment_dir, t.sha256)
    return FileResponse(path, media_type=t.content_type, filename=t.filename)
