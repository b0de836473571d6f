"""Logins, tokens, sessions with CSRF, throttling, and the audit trail of them."""

from __future__ import annotations

import json

from sqlalchemy import select
from tests.service.conftest import PASSWORD, item_ids

from huiyan.review.db import AuditEntry
from huiyan.service.auth import SESSION_COOKIE

API = "/api/v1"


def test_no_token_is_401_and_roles_are_enforced(client) -> None:
    assert client.get(f"{API}/reviews").status_code == 401
    assert client.get(f"{API}/reviews", headers={"Authorization": "Bearer nope"}).status_code == 401
    boss = client.as_("boss")
    assert client.get(f"{API}/reviews", headers=boss).status_code == 200
    ids = item_ids(client)
    # a viewer (领导) reads but cannot decide
    r = client.post(
        f"{API}/reviews/{ids['J1']}/initial", json={"outcome": "confirmed"}, headers=boss
    )
    assert r.status_code == 403
    assert client.get(f"{API}/admin/users", headers=client.as_("aud1")).status_code == 403


def test_wrong_password_then_throttled(client, app) -> None:
    for _ in range(5):
        r = client.post(
            f"{API}/auth/token", json={"username": "aud1", "password": "wrong-password"}
        )
        assert r.status_code == 401
    # the right password is refused too while throttled
    r = client.post(f"{API}/auth/token", json={"username": "aud1", "password": PASSWORD})
    assert r.status_code == 429
    # other users are not affected
    assert (
        client.post(
            f"{API}/auth/token", json={"username": "aud2", "password": PASSWORD}
        ).status_code
        == 200
    )
    with app.state.read_session() as s:
        actions = [
            e.action for e in s.scalars(select(AuditEntry).where(AuditEntry.actor == "aud1"))
        ]
    assert actions.count("login_failed") == 5 and "login_throttled" in actions


def test_cookie_session_needs_csrf_for_unsafe_requests(client) -> None:
    ids = item_ids(client)
    client.cookies.clear()
    r = client.post(f"{API}/auth/login", json={"username": "aud1", "password": PASSWORD})
    assert r.status_code == 200
    csrf = r.json()["csrf_token"]
    secret = r.cookies[SESSION_COOKIE]
    assert "httponly" in r.headers["set-cookie"].lower()
    assert client.get(f"{API}/auth/me").json()["username"] == "aud1"
    url = f"{API}/reviews/{ids['J1']}/initial"
    assert client.post(url, json={"outcome": "confirmed"}).status_code == 403
    assert (
        client.post(
            url, json={"outcome": "confirmed"}, headers={"X-CSRF-Token": "forged"}
        ).status_code
        == 403
    )
    r = client.post(url, json={"outcome": "confirmed"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    # logout revokes the session
    assert client.post(f"{API}/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 200
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, secret)
    assert client.get(f"{API}/auth/me").status_code == 401
    client.cookies.clear()


def test_disabled_user_loses_access(client, app) -> None:
    h = client.as_("aud2")
    assert client.get(f"{API}/auth/me", headers=h).status_code == 200
    me = client.get(f"{API}/auth/me", headers=h).json()
    r = client.patch(
        f"{API}/admin/users/{me['id']}", json={"active": False}, headers=client.as_("admin")
    )
    assert r.status_code == 200 and r.json()["active"] is False
    assert client.get(f"{API}/auth/me", headers=h).status_code == 401
    assert (
        client.post(
            f"{API}/auth/token", json={"username": "aud2", "password": PASSWORD}
        ).status_code
        == 401
    )


def test_admin_adds_users_and_changes_policy_logged(client, app) -> None:
    adm = client.as_("admin")
    r = client.post(
        f"{API}/admin/users",
        json={"username": "hosp9", "password": "short", "role": "hospital"},
        headers=adm,
    )
    assert r.status_code == 422
    r = client.post(
        f"{API}/admin/users",
        json={"username": "hosp9", "password": "long-enough-1", "role": "hospital"},
        headers=adm,
    )
    assert r.status_code == 422 and "medins_code" in r.json()["detail"]
    r = client.post(
        f"{API}/admin/users",
        json={
            "username": "hosp9",
            "password": "long-enough-1",
            "role": "hospital",
            "medins_code": "H9",
        },
        headers=adm,
    )
    assert r.status_code == 201
    assert (
        client.post(
            f"{API}/auth/token", json={"username": "hosp9", "password": "long-enough-1"}
        ).status_code
        == 200
    )
    r = client.patch(f"{API}/admin/policy", json={"appeal_working_days": 5}, headers=adm)
    assert r.json()["appeal_working_days"] == 5
    # stored in the workflow database: another worker process (a second app) applies it too
    from huiyan.service.app import create_app

    other = create_app(app.state.settings)
    assert other.state.policy.appeal_working_days == 5
    other.state.store.close()
    other.state.engine.dispose()
    with app.state.read_session() as s:
        e = s.scalars(select(AuditEntry).where(AuditEntry.action == "config_change")).one()
    assert '"appeal_working_days": 5' in e.detail and e.actor == "admin"


def test_throttling_per_client_address_across_user_names(app, client) -> None:
    """One address guessing many accounts, each below the per-name limit, is throttled too;
    the same user from another address is not."""
    from fastapi.testclient import TestClient

    app.state.settings.login_max_failures_per_ip = 6
    names = ["aud1", "aud2", "exp1", "hosp1", "hosp2", "boss"]
    with TestClient(app, client=("203.0.113.7", 40000)) as attacker:
        for name in names:  # one wrong guess per account: no name reaches its limit of 5
            r = attacker.post(
                f"{API}/auth/token", json={"username": name, "password": "wrong-password"}
            )
            assert r.status_code == 401
        # the address is throttled, even with a right password
        r = attacker.post(f"{API}/auth/token", json={"username": "aud1", "password": PASSWORD})
        assert r.status_code == 429
        r = attacker.post(f"{API}/auth/login", json={"username": "admin", "password": PASSWORD})
        assert r.status_code == 429
    with TestClient(app, client=("198.51.100.2", 40000)) as office:
        r = office.post(f"{API}/auth/token", json={"username": "aud1", "password": PASSWORD})
        assert r.status_code == 200
    with app.state.read_session() as s:
        throttled = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "login_throttled")
        ).all()
    assert [(e.actor, json.loads(e.detail)) for e in throttled] == [
        ("aud1", {"ip": "203.0.113.7", "by": "ip"}),
        ("admin", {"ip": "203.0.113.7", "by": "ip"}),
    ]


def test_login_checks_the_password_before_the_write_and_holds_one_connection(
    client, app, settings
) -> None:
    """``login(read=...)``: the read session's connection is back in the pool before the write
    begins, so a login never holds two (concurrent logins holding one each and waiting for a
    second exhausted the pool); the throttle still applies under the write transaction."""
    from huiyan.review.db import LoginAttempt, make_engine, session_factory
    from huiyan.service import auth

    engine = make_engine(settings.state, pool_size=1, max_overflow=0, pool_timeout=2)
    try:
        Read, Write = session_factory(engine), session_factory(engine, write=True)
        with Write() as db, Read() as read:
            secret, _tok, user = auth.login(db, settings, "aud1", PASSWORD, read=read)
            db.commit()
        assert user.username == "aud1" and secret
        with Write() as db:
            for _ in range(settings.login_max_failures):
                db.add(LoginAttempt(username="aud1", ok=False, ip=None))
            db.commit()
        with Write() as db, Read() as read:
            try:
                auth.login(db, settings, "aud1", PASSWORD, read=read)
                raise AssertionError("not throttled")
            except auth.Throttled:
                db.commit()
    finally:
        engine.dispose()
    with app.state.read_session() as s:
        actions = s.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)).all()
    assert actions[-2:] == ["login", "login_throttled"]
