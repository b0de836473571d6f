"""Isolation: a hospital user reads and acts only on its own institution's objects.

Every API route is listed below with what a user of hospital H2 sends when aiming at hospital
H1's objects (guessed ids included); a new route without an entry fails the completeness test.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from tests.service.conftest import item_ids

from huiyan.review.db import User

API = "/api/v1"


@pytest.fixture
def h1_objects(client) -> dict[str, int | str]:
    """An H1 item with an appeal and an attachment, one in cross review, one decided."""
    ids = item_ids(client)
    aud1, hosp1 = client.as_("aud1"), client.as_("hosp1")
    for jr in ("J1", "J2"):
        client.post(f"{API}/reviews/{ids[jr]}/initial", json={"outcome": "confirmed"}, headers=aud1)
    client.post(f"{API}/reviews/notify", json={"medins_code": "H1"}, headers=aud1)
    appeal = client.post(
        f"{API}/reviews/{ids['J1']}/appeal", json={"text": "申诉"}, headers=hosp1
    ).json()
    att = client.post(
        f"{API}/reviews/{ids['J1']}/attachments",
        files={"file": ("a.pdf", b"%PDF h1 secret", "application/pdf")},
        headers=hosp1,
    ).json()
    return {
        "item": ids["J1"],
        "open": ids["J2"],
        "appeal": appeal["id"],
        "attachment": att["id"],
        "setl": "S1",
    }


# (method, route path) -> how H2 aims at H1: path parameters and JSON/multipart body.
CASES: dict[tuple[str, str], dict] = {
    ("GET", "/reviews/{item_id}"): {"item_id": "item"},
    ("POST", "/reviews/{item_id}/initial"): {"item_id": "open", "json": {"outcome": "dismissed"}},
    ("POST", "/reviews/{item_id}/second-review"): {"item_id": "item", "json": {"reviewer_id": 2}},
    ("POST", "/reviews/{item_id}/cross-review"): {"item_id": "item", "json": {}},
    ("POST", "/reviews/{item_id}/vote"): {"item_id": "item", "json": {"outcome": "dismissed"}},
    ("POST", "/reviews/{item_id}/final"): {"item_id": "item", "json": {"outcome": "dismissed"}},
    ("POST", "/reviews/{item_id}/appeal"): {"item_id": "open", "json": {"text": "冒充申诉"}},
    ("POST", "/reviews/{item_id}/accept"): {"item_id": "open"},
    ("POST", "/reviews/{item_id}/attachments"): {"item_id": "item", "files": True},
    ("GET", "/appeals/{appeal_id}"): {"appeal_id": "appeal"},
    ("GET", "/attachments/{attachment_id}"): {"attachment_id": "attachment"},
    ("GET", "/outputs/cases/{setl_id}"): {"setl_id": "setl"},
    ("GET", "/outputs/notices/{medins_code}"): {"medins_code": "H1"},
    ("POST", "/reviews/bulk"): {
        "json": {"rule_id": "R-A", "medins_code": "H1", "outcome": "dismissed"}
    },
    ("POST", "/reviews/assign"): {"json": {"item_ids": ["item"], "assignee_id": 2}},
    ("POST", "/reviews/notify"): {"json": {"medins_code": "H1"}},
    ("POST", "/reviews/close-expired"): {},
    ("GET", "/reviews/workload"): {},
    ("GET", "/admin/users"): {},
    ("POST", "/admin/users"): {"json": {"username": "x", "password": "yyyyyyyy1", "role": "admin"}},
    ("PATCH", "/admin/users/{user_id}"): {"user_id": 1, "json": {"active": False}},
    ("GET", "/admin/policy"): {},
    ("PATCH", "/admin/policy"): {"json": {"appeal_working_days": 99}},
    ("GET", "/admin/audit-log"): {},
    ("GET", "/admin/audit-log/verify"): {},
    ("POST", "/admin/import"): {},
    ("GET", "/outputs/rule-quality"): {},
}
# Lists and own-scope reads: allowed, but must contain nothing of H1.
LISTS = {
    ("GET", "/reviews"),
    ("GET", "/appeals"),
    ("GET", "/outputs/deductions"),
    ("GET", "/outputs/export.csv"),
}
# Not about any institution's objects.
NEUTRAL = {
    ("POST", "/auth/token"),
    ("POST", "/auth/login"),
    ("POST", "/auth/logout"),
    ("GET", "/auth/me"),
    ("GET", "/reviews/reasons"),
    ("GET", "/outputs/snapshot"),
    ("GET", "/health"),
}


def _api_routes(app) -> set[tuple[str, str]]:
    out = set()
    for path, ops in app.openapi()["paths"].items():
        if path.startswith(API):
            # The real-time audit endpoints (service/realtime, issue 17) test their own isolation.
            out |= {
                (m.upper(), path.removeprefix(API))
                for m, op in ops.items()
                if "realtime" not in op.get("tags", [])
            }
    return out


def test_every_api_route_has_an_isolation_case(app) -> None:
    assert _api_routes(app) == set(CASES) | LISTS | NEUTRAL


def test_hospital_cannot_reach_another_hospitals_objects(client, app, h1_objects) -> None:
    hosp2 = client.as_("hosp2")
    for (method, route), case in CASES.items():
        path = route
        for key, ref in case.items():
            if key in ("json", "files"):
                continue
            path = path.replace(
                "{" + key + "}", str(h1_objects.get(ref, ref) if isinstance(ref, str) else ref)
            )
        body = case.get("json")
        if body and "item_ids" in body:
            body = {**body, "item_ids": [h1_objects["item"]]}
        kw = {"json": body} if body is not None else {}
        if case.get("files"):
            kw = {"files": {"file": ("b.pdf", b"%PDF", "application/pdf")}}
        r = client.request(method, API + path, headers=hosp2, **kw)
        assert r.status_code in (403, 404), f"{method} {route}: {r.status_code} {r.text[:200]}"
    # guessed ids beyond the real ones are 404, not 500
    for path in (
        "/reviews/999999",
        "/appeals/999999",
        "/attachments/999999",
        "/outputs/cases/NOPE",
    ):
        assert client.get(API + path, headers=hosp2).status_code == 404
    # nothing changed for H1: the appeal is intact, the open item still awaits the hospital
    aud = client.as_("aud1")
    assert (
        client.get(f"{API}/reviews/{h1_objects['open']}", headers=aud).json()["state"] == "notified"
    )
    assert (
        client.get(f"{API}/reviews/{h1_objects['item']}", headers=aud).json()["state"] == "appealed"
    )
    with app.state.read_session() as s:
        assert s.scalars(select(User).where(User.username == "x")).first() is None


def test_hospital_lists_contain_only_its_own(client, h1_objects) -> None:
    hosp2 = client.as_("hosp2")
    items = client.get(f"{API}/reviews", params={"limit": 500}, headers=hosp2).json()["items"]
    assert items and {i["medins_code"] for i in items} == {"H2"}
    filtered = client.get(f"{API}/reviews", params={"medins_code": "H1"}, headers=hosp2).json()[
        "items"
    ]
    assert filtered == []
    assert client.get(f"{API}/appeals", headers=hosp2).json() == []
    assert client.get(f"{API}/outputs/deductions", headers=hosp2).json()["hospitals"] == []
    csv_text = client.get(f"{API}/outputs/export.csv", headers=hosp2).text
    assert "H2" in csv_text and "H1" not in csv_text and "J1" not in csv_text
    # and H1 does see its own
    hosp1 = client.as_("hosp1")
    assert len(client.get(f"{API}/appeals", headers=hosp1).json()) == 1
    assert client.get(f"{API}/outputs/cases/S1", headers=hosp1).status_code == 200


def test_experts_see_only_items_drawn_for_them(client, h1_objects) -> None:
    exp1 = client.as_("exp1")
    assert client.get(f"{API}/reviews", headers=exp1).json()["items"] == []
    assert client.get(f"{API}/reviews/{h1_objects['item']}", headers=exp1).status_code == 404
    client.post(
        f"{API}/reviews/{h1_objects['item']}/cross-review", json={}, headers=client.as_("aud1")
    )
    got = client.get(f"{API}/reviews/{h1_objects['item']}", headers=exp1).json()
    assert got["jr_id"] == "J1" and got["psn_no"] is None  # blind to the patient
