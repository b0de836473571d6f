"""The review pages through the service app: sign-in, scoping, CSRF, decisions by form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

PASSWORD = "correct-horse-9"


@pytest.fixture
def app_env(web_region: Path, tmp_path: Path) -> Iterator[dict]:
    import duckdb
    from fastapi.testclient import TestClient

    from huiyan.review.users import add_user
    from huiyan.service.app import create_app
    from huiyan.service.settings import Settings

    con = duckdb.connect(str(web_region), read_only=True)
    mine, other = [
        r[0]
        for r in con.sql(
            "select medins_code from finding where sev_deg = '2' group by 1 "
            "order by count(*) desc, 1 limit 2"
        ).fetchall()
    ]
    con.close()
    app = create_app(
        Settings(
            state=str(tmp_path / "state.sqlite"),
            db=web_region,
            snapshot_dir=tmp_path / "snap",
            snapshot_poll_seconds=0,
            attachment_dir=tmp_path / "att",
        )
    )
    with app.state.write_session() as s:
        add_user(s, username="aud", password=PASSWORD, role="auditor")
        add_user(s, username="hosp", password=PASSWORD, role="hospital", medins_code=mine)
        s.commit()
    with TestClient(app) as client:
        yield {"client": client, "app": app, "mine": mine, "other": other}


def _login(client, username: str) -> None:  # noqa: ANN001
    r = client.post("/login", data={"username": username, "password": PASSWORD, "next": "/reviews"})
    assert r.status_code == 200 and r.url.path == "/reviews", r.text[:300]


def _item_ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'<a href="/reviews/(\d+)">', html)]


def test_login_failure_stays_on_the_login_page(app_env) -> None:
    r = app_env["client"].post("/login", data={"username": "aud", "password": "wrong-password"})
    assert r.status_code == 401
    assert "用户名或密码错误" in r.text


def test_hospital_sees_and_opens_only_its_own_items(app_env) -> None:
    from sqlalchemy import select

    from huiyan.review.db import ReviewItem

    c = app_env["client"]
    with app_env["app"].state.read_session() as s:
        own = {
            i.id
            for i in s.scalars(select(ReviewItem).where(ReviewItem.medins_code == app_env["mine"]))
        }
        foreign = s.scalars(
            select(ReviewItem.id).where(ReviewItem.medins_code == app_env["other"])
        ).first()
    _login(c, "hosp")
    listed = set(_item_ids(c.get("/reviews").text))
    assert listed and listed <= own
    assert c.get(f"/reviews/{foreign}").status_code == 404
    # Asking for another institution's items by filter still yields only its own.
    assert set(_item_ids(c.get("/reviews", params={"medins_code": app_env["other"]}).text)) <= own


def test_auditor_decision_needs_the_csrf_token(app_env) -> None:
    from huiyan.review.db import ReviewItem

    c = app_env["client"]
    _login(c, "aud")
    page = c.get("/reviews", params={"state": "pending"}).text
    item = _item_ids(page)[0]
    form = c.get(f"/reviews/{item}").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    version = re.search(r'name="version" value="(\d+)"', form).group(1)
    denied = c.post(f"/reviews/{item}/initial", data={"outcome": "confirmed", "version": version})
    assert denied.status_code == 403
    ok = c.post(
        f"/reviews/{item}/initial",
        data={"outcome": "confirmed", "reason": "R01", "version": version, "csrf_token": token},
    )
    assert ok.status_code == 200 and "初审结论已保存" in ok.text
    with app_env["app"].state.read_session() as s:
        row = s.get(ReviewItem, item)
        assert (row.state, row.initial_outcome, row.initial_reason) == (
            "reviewed",
            "confirmed",
            "R01",
        )
    # A decision the workflow refuses is shown on the page, not as an error response.
    again = c.post(
        f"/reviews/{item}/initial",
        data={"outcome": "confirmed", "csrf_token": token},
    )
    assert again.status_code == 200 and 'class="error"' in again.text
