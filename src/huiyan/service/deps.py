"""FastAPI dependencies shared by the JSON API and the dashboard pages.

``current_user`` accepts a bearer token (machine clients) or the session cookie (browsers);
for a cookie-authenticated unsafe request it also checks the CSRF token. ``require_role``
narrows it to roles. ``db`` gives a session on the workflow database (committed by the caller).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.orm import Session

from huiyan.service.auth import (
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    Principal,
    csrf_ok,
    hash_secret,
    resolve,
)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_db(request: Request) -> AsyncIterator[Session]:
    """A read session for safe methods, a write session (SQLite write lock up front) otherwise.

    Async on purpose: a sync generator dependency costs two thread-pool hops per request;
    creating and closing a session does no blocking work worth a thread."""
    state = request.app.state
    factory = state.read_session if request.method in SAFE_METHODS else state.write_session
    with factory() as session:
        yield session


Db = Annotated[Session, Depends(get_db)]


def _unauthorised(msg: str = "未登录或登录已过期") -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, msg, headers={"WWW-Authenticate": "Bearer"})


async def _form_csrf(request: Request) -> str | None:
    ctype = request.headers.get("content-type", "")
    if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        v = form.get(CSRF_FIELD)
        return v if isinstance(v, str) else None
    return None


async def current_user(request: Request) -> Principal:
    state = request.app.state
    header = request.headers.get("authorization", "")
    secret = None
    via_cookie = False
    if header.lower().startswith("bearer "):
        secret = header[7:].strip()
    elif SESSION_COOKIE in request.cookies:
        secret = request.cookies[SESSION_COOKIE]
        via_cookie = True
    if not secret:
        raise _unauthorised()
    p = state.token_cache.get(hash_secret(secret))
    if p is None:
        with state.read_session() as session:
            p = resolve(session, secret, state.token_cache)
    if p is None:
        raise _unauthorised()
    if via_cookie and request.method not in SAFE_METHODS:
        presented = request.headers.get(CSRF_HEADER) or await _form_csrf(request)
        if not csrf_ok(p, presented):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "CSRF 校验失败")
    request.state.principal = p
    return p


CurrentUser = Annotated[Principal, Depends(current_user)]


def require_role(*roles: str) -> Callable[..., Any]:
    """A dependency admitting only ``roles`` (403 otherwise)."""

    async def dep(user: CurrentUser) -> Principal:
        if user.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "当前角色无权访问")
        return user

    return dep
