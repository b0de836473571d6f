"""Logins, bearer tokens and browser sessions (with CSRF tokens), login throttling.

A token is a random secret; only its sha256 is stored, so a leaked database grants no access.
Bearer tokens and session cookies are the same kind of row; a session also carries a CSRF
token that unsafe browser requests must echo (header ``X-CSRF-Token`` or form ``csrf_token``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from starlette.requests import HTTPConnection

from huiyan.review import auditlog
from huiyan.review.db import LoginAttempt, Token, User, utcnow
from huiyan.review.passwords import DUMMY_HASH, verify_password
from huiyan.service.settings import Settings

SESSION_COOKIE = "huiyan_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


class LoginFailed(Exception):
    pass


class Throttled(Exception):
    pass


@dataclass(frozen=True)
class Principal:
    """The authenticated user as the request sees it (a detached, immutable copy)."""

    id: int
    username: str
    role: str
    medins_code: str | None
    can_see_personal: bool
    kind: str  # bearer | session
    csrf: str | None
    token_hash: str


def client_ip(request: HTTPConnection) -> str | None:
    """The request's client address (uvicorn's proxy-headers handling applies)."""
    return request.client.host if request.client else None


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _failures(db: Session, since: dt.datetime, where: ColumnElement[bool]) -> int:
    return (
        db.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(where, LoginAttempt.ok.is_(False), LoginAttempt.at >= since)
        )
        or 0
    )


def _throttled_by(
    db: Session, settings: Settings, username: str, client_ip: str | None
) -> str | None:
    """``user`` or ``ip`` when that limit of failed logins in the window is reached."""
    since = utcnow() - dt.timedelta(minutes=settings.login_window_minutes)
    if _failures(db, since, LoginAttempt.username == username) >= settings.login_max_failures:
        return "user"
    if client_ip and (
        _failures(db, since, LoginAttempt.ip == client_ip) >= settings.login_max_failures_per_ip
    ):
        return "ip"
    return None


def login(
    db: Session,
    settings: Settings,
    username: str,
    password: str,
    *,
    kind: str = "bearer",
    client_ip: str | None = None,
    read: Session | None = None,
) -> tuple[str, Token, User]:
    """Check the password and issue a token. Caller commits.

    Throttled per user name (guessing one account's password) and per client address
    (``client_ip``: one address trying many accounts, each below the per-name limit).

    ``read``: a session to look the user up and check the password in, before ``db``'s write
    transaction begins. The password hash costs tens of milliseconds of CPU on purpose; inside
    the write transaction it held SQLite's one write lock (every reviewer's decision waited
    behind each login). The limits are checked again under the write lock, where the attempt
    is recorded, so concurrent guesses cannot get past them."""
    src = read if read is not None else db
    by = _throttled_by(src, settings, username, client_ip)
    ok = False
    user: User | None = None
    if by is None:
        user = src.scalars(select(User).where(User.username == username)).first()
        ok = verify_password(user.password_hash if user else DUMMY_HASH, password)
        ok = ok and user is not None and user.active
    if read is not None:
        user_id = user.id if user is not None else None
        # Its connection back to the pool before the write session takes one: a rollback
        # would expire ``user`` and its next use would take a second connection, and
        # concurrent logins each holding one while waiting for another exhaust the pool.
        read.close()
        if by is None:
            by = _throttled_by(db, settings, username, client_ip)
        if ok and by is None:
            # The account as it is now (it may have been disabled meanwhile).
            user = db.get(User, user_id)
            ok = user is not None and user.active
    if by is not None:
        auditlog.append(
            db,
            actor=username,
            action="login_throttled",
            object_type="user",
            object_id=username,
            detail={"ip": client_ip, "by": by},
        )
        raise Throttled(f"登录失败次数过多, 请 {settings.login_window_minutes} 分钟后再试")
    db.add(LoginAttempt(username=username, ok=ok, ip=client_ip))
    auditlog.append(
        db,
        actor=username,
        action="login" if ok else "login_failed",
        object_type="user",
        object_id=user.id if user else "",
        detail={"kind": kind, "ip": client_ip},
    )
    if not ok:
        raise LoginFailed("用户名或密码错误")
    assert user is not None
    secret = secrets.token_urlsafe(32)
    token = Token(
        token_hash=hash_secret(secret),
        user_id=user.id,
        kind=kind,
        csrf=secrets.token_urlsafe(24) if kind == "session" else None,
        expires_at=utcnow() + dt.timedelta(hours=settings.token_hours),
    )
    db.add(token)
    return secret, token, user


def logout(db: Session, principal: Principal, cache: TokenCache) -> None:
    db.execute(update(Token).where(Token.token_hash == principal.token_hash).values(revoked=True))
    auditlog.append(
        db, actor=principal.username, action="logout", object_type="user", object_id=principal.id
    )
    cache.drop(principal.token_hash)


class TokenCache:
    """Resolved tokens kept for a few seconds: most requests then need no token query.

    Revocation (logout, user disabled) is immediate in this process and takes at most
    ``ttl`` seconds in other worker processes.
    """

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._d: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def get(self, token_hash: str) -> Principal | None:
        hit = self._d.get(token_hash)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        return None

    def put(self, p: Principal) -> None:
        with self._lock:
            if len(self._d) > 10_000:
                self._d.clear()
            self._d[p.token_hash] = (time.monotonic() + self.ttl, p)

    def drop(self, token_hash: str) -> None:
        with self._lock:
            self._d.pop(token_hash, None)

    def clear(self) -> None:
        with self._lock:
            self._d.clear()


def resolve(db: Session, secret: str, cache: TokenCache) -> Principal | None:
    h = hash_secret(secret)
    p = cache.get(h)
    if p is not None:
        return p
    row = db.execute(
        select(Token, User).join(User, User.id == Token.user_id).where(Token.token_hash == h)
    ).first()
    if row is None:
        return None
    token, user = row
    if token.revoked or token.expires_at < utcnow() or not user.active:
        return None
    p = Principal(
        id=user.id,
        username=user.username,
        role=user.role,
        medins_code=user.medins_code,
        can_see_personal=user.can_see_personal,
        kind=token.kind,
        csrf=token.csrf,
        token_hash=h,
    )
    cache.put(p)
    return p


def csrf_ok(principal: Principal, presented: str | None) -> bool:
    return bool(principal.csrf and presented and secrets.compare_digest(principal.csrf, presented))
