"""``/auth``: bearer tokens for machine clients, cookie sessions (with CSRF) for browsers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status
from pydantic import BaseModel

from huiyan.review.db import ROLE_LABELS
from huiyan.service import auth
from huiyan.service.deps import CurrentUser, Db

router = APIRouter(prefix="/auth", tags=["auth"])


class Credentials(BaseModel):
    username: str
    password: str


def _login(request: Request, db: Db, body: Credentials, kind: str) -> tuple[str, Any, Any]:
    try:
        # The password is checked in a read session, before the write transaction begins.
        with request.app.state.read_session() as read:
            secret, token, user = auth.login(
                db,
                request.app.state.settings,
                body.username,
                body.password,
                kind=kind,
                client_ip=auth.client_ip(request),
                read=read,
            )
    except auth.Throttled as exc:
        db.commit()
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, str(exc)) from None
    except auth.LoginFailed as exc:
        db.commit()  # the failed attempt counts towards throttling and is audit-logged
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc)) from None
    db.commit()
    return secret, token, user


@router.post("/token")
def token(request: Request, db: Db, body: Credentials) -> dict[str, Any]:
    """Bearer token for API clients: send ``Authorization: Bearer <access_token>``."""
    secret, tok, user = _login(request, db, body, "bearer")
    return {
        "access_token": secret,
        "token_type": "bearer",
        "expires_at": tok.expires_at.isoformat(),
        "role": user.role,
    }


@router.post("/login")
def login(request: Request, response: Response, db: Db, body: Credentials) -> dict[str, Any]:
    """Browser session: sets an HttpOnly cookie; echo ``csrf_token`` in ``X-CSRF-Token``."""
    secret, tok, user = _login(request, db, body, "session")
    settings = request.app.state.settings
    response.set_cookie(
        auth.SESSION_COOKIE,
        secret,
        httponly=True,
        samesite="strict",
        secure=settings.cookie_secure,
        max_age=int(settings.token_hours * 3600),
    )
    return {"csrf_token": tok.csrf, "role": user.role, "username": user.username}


@router.post("/logout")
def logout(request: Request, response: Response, db: Db, user: CurrentUser) -> dict[str, bool]:
    auth.logout(db, user, request.app.state.token_cache)
    db.commit()
    response.delete_cookie(auth.SESSION_COOKIE)
    return {"ok": True}


@router.get("/me")
def me(user: CurrentUser) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "role": user.role,
        "role_label": ROLE_LABELS[user.role],
        "medins_code": user.medins_code,
        "csrf_token": user.csrf,
    }
