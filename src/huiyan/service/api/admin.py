"""``/admin``: users, configuration, audit log, findings import."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy import select

from huiyan.review import auditlog, users, workflow
from huiyan.review.db import AuditEntry, Setting, User
from huiyan.service.auth import Principal
from huiyan.service.deps import Db, require_role

router = APIRouter(prefix="/admin", tags=["admin"])
Admin = Annotated[Principal, Depends(require_role("admin"))]


class NewUser(BaseModel):
    username: str
    password: str
    role: str
    medins_code: str | None = None
    display_name: str = ""
    can_see_personal: bool = False


class UserPatch(BaseModel):
    active: bool | None = None
    password: str | None = None


class PolicyPatch(BaseModel):
    appeal_working_days: int | None = None
    cross_review_experts: int | None = None
    auto_confirm_violations: bool | None = None
    rule_quality_threshold: float | None = None


def _user_json(u: User) -> dict[str, Any]:
    return {
        "id": u.id,
        "username": u.username,
        "display_name": u.display_name,
        "role": u.role,
        "medins_code": u.medins_code,
        "active": u.active,
        "can_see_personal": u.can_see_personal,
    }


@router.get("/users")
def list_users(db: Db, user: Admin) -> list[dict[str, Any]]:
    return [_user_json(u) for u in db.scalars(select(User).order_by(User.id))]


@router.post("/users", status_code=201)
def add_user(body: NewUser, db: Db, user: Admin) -> dict[str, Any]:
    u = users.add_user(db, actor=user.username, **body.model_dump())
    db.commit()
    return _user_json(u)


@router.patch("/users/{user_id}")
def patch_user(
    user_id: int, body: UserPatch, request: Request, db: Db, user: Admin
) -> dict[str, Any]:
    u = db.get(User, user_id)
    if u is None:
        raise workflow.NotFound(f"用户 {user_id} 不存在")
    if body.password is not None:
        users.set_password(db, u, body.password, actor=user.username)
    if body.active is not None:
        users.set_active(db, u, body.active, actor=user.username)
    db.commit()
    request.app.state.token_cache.clear()
    return _user_json(u)


@router.get("/policy")
def get_policy(request: Request, user: Admin) -> dict[str, Any]:
    return request.app.state.policy.model_dump(mode="json")


@router.patch("/policy")
def patch_policy(body: PolicyPatch, request: Request, db: Db, user: Admin) -> dict[str, Any]:
    """Change the workflow policy (stored in the workflow database, applied by every worker
    within one poll interval; logged)."""
    from huiyan.service.app import POLICY_KEY, refresh_policy

    change = body.model_dump(exclude_none=True)
    row = db.get(Setting, POLICY_KEY)
    current = json.loads(row.value) if row is not None else {}
    current.update(change)
    if row is None:
        db.add(Setting(key=POLICY_KEY, value=json.dumps(current)))
    else:
        row.value = json.dumps(current)
    auditlog.append(
        db, actor=user.username, action="config_change", object_type="policy", detail=change
    )
    db.commit()
    return refresh_policy(request.app).model_dump(mode="json")


@router.get("/audit-log")
def audit_log(
    db: Db,
    user: Admin,
    after_seq: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    rows = db.scalars(
        select(AuditEntry).where(AuditEntry.seq > after_seq).order_by(AuditEntry.seq).limit(limit)
    )
    return [
        {
            "seq": e.seq,
            "at": e.at.isoformat(),
            "actor": e.actor,
            "action": e.action,
            "object_type": e.object_type,
            "object_id": e.object_id,
            "detail": e.detail,
            "hash": e.hash,
        }
        for e in rows
    ]


@router.get("/audit-log/verify")
def audit_verify(db: Db, user: Admin) -> dict[str, Any]:
    v = auditlog.verify(db)
    return {"ok": v.ok, "entries": v.entries, "first_bad_seq": v.first_bad_seq, "reason": v.reason}


@router.post("/import")
def import_findings(request: Request, user: Admin) -> dict[str, Any]:
    """Publish the store if it changed and open review items for its new findings."""
    from huiyan.service.app import sync_findings

    r = sync_findings(request.app)
    snap = request.app.state.store.snapshot
    return {
        "snapshot": snap.name if snap else None,
        "created": r.created if r else 0,
        "auto_confirmed": r.auto_confirmed if r else 0,
    }
