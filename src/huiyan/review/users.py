"""User accounts: creation and password changes (shared by ``huiyan users`` and the service)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from huiyan.review import auditlog
from huiyan.review.db import ROLE_LABELS, ROLES, User
from huiyan.review.passwords import MIN_LENGTH, hash_password
from huiyan.review.workflow import Conflict, Invalid


def add_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    medins_code: str | None = None,
    display_name: str = "",
    can_see_personal: bool = False,
    actor: str = "system",
) -> User:
    """Create a user. Hospital users need their institution code; experts may name theirs."""
    username = username.strip()
    if not username:
        raise Invalid("用户名不能为空")
    if role not in ROLES:
        raise Invalid(
            f"角色 {role!r} 无效, 应为: " + ", ".join(f"{r} ({ROLE_LABELS[r]})" for r in ROLES)
        )
    if role == "hospital" and not medins_code:
        raise Invalid("医院用户须指定所属机构编码 (medins_code)")
    if len(password) < MIN_LENGTH:
        raise Invalid(f"密码至少 {MIN_LENGTH} 位")
    if session.scalars(select(User).where(User.username == username)).first() is not None:
        raise Conflict(f"用户 {username} 已存在")
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        role=role,
        medins_code=medins_code or None,
        can_see_personal=can_see_personal and role in ("admin", "auditor"),
    )
    session.add(user)
    session.flush()
    auditlog.append(
        session,
        actor=actor,
        action="user_add",
        object_type="user",
        object_id=user.id,
        detail={"username": username, "role": role, "medins_code": medins_code},
    )
    return user


def set_password(session: Session, user: User, password: str, *, actor: str) -> None:
    if len(password) < MIN_LENGTH:
        raise Invalid(f"密码至少 {MIN_LENGTH} 位")
    user.password_hash = hash_password(password)
    auditlog.append(
        session, actor=actor, action="password_change", object_type="user", object_id=user.id
    )


def set_active(session: Session, user: User, active: bool, *, actor: str) -> None:
    user.active = active
    auditlog.append(
        session,
        actor=actor,
        action="user_active" if active else "user_disable",
        object_type="user",
        object_id=user.id,
    )
