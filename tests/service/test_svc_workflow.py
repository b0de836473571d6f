"""The whole review loop through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from tests.service.conftest import item_ids

from huiyan.review import workflow
from huiyan.review.db import AuditEntry, CrossVote, ReviewItem, User

API = "/api/v1"


def test_findings_open_review_items_and_violations_are_auto_confirmed(client) -> None:
    r = client.get(f"{API}/reviews", params={"limit": 500}, headers=client.as_("aud1"))
    items = {i["jr_id"]: i for i in r.json()["items"]}
    assert set(items) == {"J1", "J2", "J3", "J4", "J5"}
    assert items["J1"]["state"] == "pending" and items["J1"]["vola_amt"] == "300.00"
    # 明确违规 (sev_deg 1) confirmed by policy, recorded as auto, not yet final
    assert items["J3"]["state"] == "reviewed"
    assert items["J3"]["auto_confirmed"] is True
    assert items["J3"]["initial_amount"] == "50.00"
    # re-importing the same snapshot opens nothing new
    r = client.post(f"{API}/admin/import", headers=client.as_("admin"))
    assert r.json()["created"] == 0


def test_full_loop_appeal_with_attachment_cross_review_final(client, app) -> None:
    ids = item_ids(client)
    aud1, aud2, hosp1 = client.as_("aud1"), client.as_("aud2"), client.as_("hosp1")
    # The service's clock on the latest Wednesday: the deadline does not depend on the weekday
    # the suite runs on (from a Saturday, 10 working days are 13 calendar days).
    today = dt.date.today()
    wednesday = today - dt.timedelta(days=(today.weekday() - 2) % 7)
    app.state.today = lambda: wednesday

    # 初审: J1 confirmed, J2 partially confirmed, J4 dismissed
    r = client.post(
        f"{API}/reviews/{ids['J1']}/initial",
        json={"outcome": "confirmed", "reason": "R01"},
        headers=aud1,
    )
    assert r.status_code == 200, r.text
    r = client.post(
        f"{API}/reviews/{ids['J2']}/initial",
        json={"outcome": "partial", "amount": "80.50", "reason": "R05", "note": "部分合理"},
        headers=aud1,
    )
    assert r.json()["initial_amount"] == "80.50"
    r = client.post(
        f"{API}/reviews/{ids['J4']}/initial",
        json={"outcome": "dismissed", "reason": "R07"},
        headers=aud1,
    )
    assert r.json()["state"] == "final" and r.json()["final_amount"] == "0.00"
    # a decision on a decided item is a conflict, a partial amount above the finding is invalid
    assert (
        client.post(
            f"{API}/reviews/{ids['J1']}/initial", json={"outcome": "dismissed"}, headers=aud1
        ).status_code
        == 409
    )
    assert (
        client.post(
            f"{API}/reviews/{ids['J5']}/initial",
            json={"outcome": "partial", "amount": "500"},
            headers=aud1,
        ).status_code
        == 422
    )
    assert (
        client.post(
            f"{API}/reviews/{ids['J5']}/initial",
            json={"outcome": "confirmed", "reason": "XX"},
            headers=aud1,
        ).status_code
        == 422
    )

    # 通知医院 H1: J1, J2 and the auto-confirmed J3
    r = client.post(f"{API}/reviews/notify", json={"medins_code": "H1"}, headers=aud1)
    assert r.json() == {"notified": 3}
    j1 = client.get(f"{API}/reviews/{ids['J1']}", headers=hosp1).json()
    assert j1["state"] == "notified"
    deadline = dt.date.fromisoformat(j1["appeal_deadline"])
    assert deadline == wednesday + dt.timedelta(days=14)  # 10 working days: two weekends

    # 医院申诉 with an attachment on J1; J2 accepted
    r = client.post(
        f"{API}/reviews/{ids['J1']}/appeal", json={"text": "该项目有医嘱, 见附件"}, headers=hosp1
    )
    assert r.status_code == 200, r.text
    appeal_id = r.json()["id"]
    r = client.post(
        f"{API}/reviews/{ids['J1']}/attachments",
        files={"file": ("医嘱.pdf", b"%PDF-1.4 test", "application/pdf")},
        headers=hosp1,
    )
    assert r.status_code == 200, r.text
    att = r.json()
    assert len(att["sha256"]) == 64
    bad = client.post(
        f"{API}/reviews/{ids['J1']}/attachments",
        files={"file": ("x.exe", b"MZ", "application/x-msdownload")},
        headers=hosp1,
    )
    assert bad.status_code == 422
    got = client.get(f"{API}/attachments/{att['id']}", headers=hosp1)
    assert got.status_code == 200 and got.content == b"%PDF-1.4 test"
    assert (
        client.get(f"{API}/appeals/{appeal_id}", headers=aud1).json()["attachments"][0]["id"]
        == att["id"]
    )
    assert (
        client.post(f"{API}/reviews/{ids['J2']}/accept", headers=hosp1).json()["final_amount"]
        == "80.50"
    )

    # 交叉互评: three experts, never from the appealing hospital H1
    r = client.post(f"{API}/reviews/{ids['J1']}/cross-review", json={}, headers=aud1)
    assert r.status_code == 200, r.text
    with app.state.read_session() as s:
        drawn = s.scalars(
            select(User)
            .join(CrossVote, CrossVote.expert_id == User.id)
            .where(CrossVote.item_id == ids["J1"])
        ).all()
    assert sorted(u.username for u in drawn) == ["exp1", "exp2", "exp3"]
    # the H1 expert cannot even see the item
    assert client.get(f"{API}/reviews/{ids['J1']}", headers=client.as_("exp_h1")).status_code == 404
    r = client.post(
        f"{API}/reviews/{ids['J1']}/vote",
        json={"outcome": "partial", "amount": "120"},
        headers=client.as_("exp1"),
    )
    assert r.json()["state"] == "cross_review"
    assert (
        client.post(
            f"{API}/reviews/{ids['J1']}/vote",
            json={"outcome": "dismissed"},
            headers=client.as_("exp1"),
        ).status_code
        == 409
    )
    r = client.post(
        f"{API}/reviews/{ids['J1']}/vote",
        json={"outcome": "partial", "amount": "150"},
        headers=client.as_("exp2"),
    )
    body = r.json()
    # majority (2 of 3) partially confirms; the amount is the lower median of the majority
    assert (
        body["state"] == "final"
        and body["final_outcome"] == "partial"
        and body["final_amount"] == "120.00"
    )
    assert (
        client.post(
            f"{API}/reviews/{ids['J1']}/vote",
            json={"outcome": "confirmed"},
            headers=client.as_("exp3"),
        ).status_code
        == 409
    )

    # J3 (auto-confirmed) appealed, then re-reviewed by a different auditor
    assert (
        client.post(
            f"{API}/reviews/{ids['J3']}/appeal", json={"text": "请复核"}, headers=hosp1
        ).status_code
        == 200
    )
    with app.state.read_session() as s:
        aud2_id = s.scalars(select(User.id).where(User.username == "aud2")).one()
    r = client.post(
        f"{API}/reviews/{ids['J3']}/second-review", json={"reviewer_id": aud2_id}, headers=aud1
    )
    assert r.json()["state"] == "second_review"
    assert (
        client.post(
            f"{API}/reviews/{ids['J3']}/final", json={"outcome": "confirmed"}, headers=aud1
        ).status_code
        == 403
    )
    r = client.post(
        f"{API}/reviews/{ids['J3']}/final",
        json={"outcome": "confirmed", "reason": "R01"},
        headers=aud2,
    )
    assert r.status_code == 200 and r.json()["final_amount"] == "50.00"

    # Money follows the decision: J1 120.00 + J2 80.50 + J3 50.00; J4 dismissed, J5 undecided
    with app.state.read_session() as s:
        decided = workflow.decided_findings(s)
    assert {d["jr_id"]: str(d["vola_amt"]) for d in decided} == {
        "J1": "120.00",
        "J2": "80.50",
        "J3": "50.00",
    }
    r = client.get(f"{API}/outputs/deductions", headers=client.as_("boss"))
    assert r.json()["hospitals"] == [{"medins_code": "H1", "items": 3, "amount": "250.50"}]
    q = client.get(f"{API}/outputs/rule-quality", headers=client.as_("boss")).json()
    ra = next(x for x in q if x["rule_id"] == "R-A")
    assert (ra["findings"], ra["reviewed"], ra["confirmed"], ra["dismissed"]) == (3, 3, 2, 1)
    assert ra["confirmed_amount"] == "200.50"

    r = client.get(f"{API}/admin/audit-log/verify", headers=client.as_("admin"))
    assert r.json()["ok"] is True and r.json()["entries"] > 15


def test_no_appeal_by_the_deadline_makes_the_initial_decision_final(client, app) -> None:
    ids = item_ids(client)
    aud1 = client.as_("aud1")
    client.post(f"{API}/reviews/{ids['J5']}/initial", json={"outcome": "confirmed"}, headers=aud1)
    client.post(f"{API}/reviews/notify", json={"medins_code": "H2"}, headers=aud1)
    # the deadline passes: move it into the past
    with app.state.write_session() as s:
        item = s.get(ReviewItem, ids["J5"])
        item.appeal_deadline = dt.date.today() - dt.timedelta(days=1)
        s.commit()
    assert (
        client.get(f"{API}/reviews", params={"overdue": True}, headers=aud1).json()["items"][0][
            "jr_id"
        ]
        == "J5"
    )
    r = client.post(
        f"{API}/reviews/{ids['J5']}/appeal",
        json={"text": "迟到的申诉"},
        headers=client.as_("hosp2"),
    )
    assert r.status_code == 409
    assert client.post(f"{API}/reviews/close-expired", headers=aud1).json() == {"closed": 1}
    j5 = client.get(f"{API}/reviews/{ids['J5']}", headers=aud1).json()
    assert j5["state"] == "final" and j5["final_amount"] == "120.00"


def test_cross_review_without_majority_goes_to_second_review(client, app) -> None:
    ids = item_ids(client)
    aud1 = client.as_("aud1")
    client.post(f"{API}/reviews/{ids['J5']}/initial", json={"outcome": "confirmed"}, headers=aud1)
    client.post(f"{API}/reviews/notify", json={}, headers=aud1)
    client.post(
        f"{API}/reviews/{ids['J5']}/appeal", json={"text": "不同意"}, headers=client.as_("hosp2")
    )
    r = client.post(f"{API}/reviews/{ids['J5']}/cross-review", json={"experts": 3}, headers=aud1)
    experts = r.json()["experts"]
    with app.state.read_session() as s:
        names = [s.get(User, e).username for e in experts]
    assert "exp1" not in names  # exp1 is from H2, the appealing hospital
    for name, outcome in zip(names, ["confirmed", "dismissed", "partial"], strict=True):
        body = (
            {"outcome": outcome, "amount": "60"} if outcome == "partial" else {"outcome": outcome}
        )
        r = client.post(f"{API}/reviews/{ids['J5']}/vote", json=body, headers=client.as_(name))
    assert r.json()["state"] == "second_review"
    # the first reviewer may not decide the re-review
    assert (
        client.post(
            f"{API}/reviews/{ids['J5']}/final", json={"outcome": "dismissed"}, headers=aud1
        ).status_code
        == 403
    )
    r = client.post(
        f"{API}/reviews/{ids['J5']}/final",
        json={"outcome": "dismissed", "reason": "R06"},
        headers=client.as_("aud2"),
    )
    assert r.json()["final_outcome"] == "dismissed"


def test_bulk_confirm_and_assignment(client, app) -> None:
    ids = item_ids(client)
    aud1 = client.as_("aud1")
    r = client.post(
        f"{API}/reviews/bulk",
        json={"rule_id": "R-A", "medins_code": "H1", "outcome": "confirmed", "reason": "R01"},
        headers=aud1,
    )
    assert sorted(r.json()["items"]) == sorted([ids["J1"], ids["J2"]])
    with app.state.read_session() as s:
        aud2 = s.scalars(select(User.id).where(User.username == "aud2")).one()
    r = client.post(
        f"{API}/reviews/assign",
        json={"item_ids": [ids["J4"], ids["J5"]], "assignee_id": aud2},
        headers=aud1,
    )
    assert r.json() == {"assigned": 2}
    w = client.get(f"{API}/reviews/workload", headers=aud1).json()
    assert {"assignee_id": aud2, "username": "aud2", "state": "pending", "items": 2} in w
    mine = client.get(f"{API}/reviews", params={"assignee_id": aud2}, headers=aud1).json()["items"]
    assert sorted(i["jr_id"] for i in mine) == ["J4", "J5"]


def test_stale_version_is_a_conflict(client) -> None:
    ids = item_ids(client)
    aud1 = client.as_("aud1")
    v = client.get(f"{API}/reviews/{ids['J1']}", headers=aud1).json()["version"]
    client.post(
        f"{API}/reviews/assign", json={"item_ids": [ids["J1"]], "assignee_id": 2}, headers=aud1
    )
    r = client.post(
        f"{API}/reviews/{ids['J1']}/initial",
        json={"outcome": "confirmed", "version": v},
        headers=aud1,
    )
    assert r.status_code == 409


def test_decision_read_outside_the_write_lock_loses_to_an_earlier_writer(client, app) -> None:
    """The API reads and checks an item before its write transaction; a decision committed in
    between must make the later one a conflict (nothing written), never a second decision."""
    ids = item_ids(client)
    with app.state.read_session() as s:
        aud1, aud2 = (
            s.scalars(select(User).where(User.username == name)).one() for name in ("aud1", "aud2")
        )
    with app.state.read_session() as read:
        stale = workflow.get_item(read, aud1, ids["J1"])  # aud1 opens the item ...
    with app.state.write_session() as w:  # ... aud2 decides it first
        workflow.initial_review(w, aud2, ids["J1"], outcome="dismissed", reason="R06")
        w.commit()
    with app.state.write_session() as w, app.state.read_session() as read:
        late = workflow.get_item(read, aud1, ids["J1"])
        assert late.state == "final"
        with pytest.raises(workflow.Conflict):
            workflow._write_decision(w, stale, {"state": "reviewed", "initial_by": aud1.id})
        w.rollback()
    with app.state.read_session() as s:
        item = s.get(ReviewItem, ids["J1"])
        assert (item.state, item.initial_by, item.version) == ("final", aud2.id, 2)
        logged = s.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "initial_review", AuditEntry.object_id == str(ids["J1"])
            )
        ).all()
        assert [e.actor for e in logged] == ["aud2"]
    # through the API, the stale version is refused the same way
    r = client.post(
        f"{API}/reviews/{ids['J1']}/initial",
        json={"outcome": "confirmed", "version": stale.version},
        headers=client.as_("aud1"),
    )
    assert r.status_code == 409


def test_appeal_deadlines_take_effect_without_a_manual_call(client, app) -> None:
    """With the service's clock moved past the deadline, the background task's round closes
    the items, and reading one closes it even before that; up to the deadline nothing closes."""
    from huiyan.service.app import poll_once

    ids = item_ids(client)
    aud1 = client.as_("aud1")
    for j in ("J1", "J2", "J4"):
        client.post(f"{API}/reviews/{ids[j]}/initial", json={"outcome": "confirmed"}, headers=aud1)

    def deadline(j: str) -> dt.date:
        item = client.get(f"{API}/reviews/{ids[j]}", headers=aud1).json()
        return dt.date.fromisoformat(item["appeal_deadline"])

    # H2 is notified; nobody reads its item: the background task closes it
    client.post(f"{API}/reviews/notify", json={"medins_code": "H2"}, headers=aud1)
    d2 = deadline("J4")
    app.state.today = lambda: d2  # the last day to appeal: still open
    poll_once(app)
    with app.state.read_session() as s:
        assert s.get(ReviewItem, ids["J4"]).state == "notified"
    app.state.today = lambda: d2 + dt.timedelta(days=1)
    poll_once(app)
    with app.state.read_session() as s:
        j4 = s.get(ReviewItem, ids["J4"])
        assert (j4.state, j4.final_amount_fen, j4.final_outcome) == ("final", 8000, "confirmed")
    r = client.post(
        f"{API}/reviews/{ids['J4']}/appeal", json={"text": "迟到"}, headers=client.as_("hosp2")
    )
    assert r.status_code == 409

    # H1 is notified on the service's (moved) day; its deadline passes before any poll
    client.post(f"{API}/reviews/notify", json={"medins_code": "H1"}, headers=aud1)
    d1 = deadline("J1")
    assert d1 > d2
    app.state.today = lambda: d1
    listed = client.get(f"{API}/reviews", params={"medins_code": "H1"}, headers=aud1).json()
    assert {r["state"] for r in listed["items"]} == {"notified"}
    app.state.today = lambda: d1 + dt.timedelta(days=1)
    # reading one expired item closes it (here the hospital's own read)
    j1 = client.get(f"{API}/reviews/{ids['J1']}", headers=client.as_("hosp1")).json()
    assert (j1["state"], j1["final_amount"]) == ("final", "300.00")
    listed = client.get(f"{API}/reviews", params={"medins_code": "H1"}, headers=aud1).json()
    assert {r["jr_id"]: r["state"] for r in listed["items"]} == {
        "J1": "final",
        "J2": "final",
        "J3": "final",
    }
    with app.state.read_session() as s:
        closed = s.scalars(
            select(AuditEntry.object_id).where(AuditEntry.action == "appeal_deadline_passed")
        ).all()
    assert sorted(closed) == sorted(str(ids[j]) for j in ("J1", "J2", "J3", "J4"))
    assert client.post(f"{API}/reviews/close-expired", headers=aud1).json() == {"closed": 0}


def test_settlement_applies_passed_appeal_deadlines_itself(client, app, settings) -> None:
    """``huiyan settle --state`` does not rely on the service having closed expired items."""
    from huiyan.review.settle import decided_table

    ids = item_ids(client)
    aud1 = client.as_("aud1")
    client.post(f"{API}/reviews/{ids['J4']}/initial", json={"outcome": "confirmed"}, headers=aud1)
    client.post(f"{API}/reviews/notify", json={"medins_code": "H2"}, headers=aud1)
    with app.state.read_session() as s:
        deadline = s.get(ReviewItem, ids["J4"]).appeal_deadline
    assert decided_table(settings.state, today=deadline).num_rows == 0
    t = decided_table(settings.state, today=deadline + dt.timedelta(days=1))
    assert t.column("setl_id").to_pylist() == ["S4"]
    assert str(t.column("vola_amt")[0]) == "80.00"


def test_prebuilt_reads_agree_with_visible(client, app) -> None:
    """``list_items`` / ``find_item`` (statements built once, reader as bound parameters) return
    exactly what ``visible`` admits, for every kind of reader and filter."""
    with app.state.write_session() as s:
        users = {u.username: u for u in s.scalars(select(User))}
        items = s.scalars(select(ReviewItem).order_by(ReviewItem.id)).all()
        first, second = items[0], items[3]  # an H1 and an H2 item
        first.assignee_id = users["aud1"].id
        s.add(CrossVote(item_id=second.id, expert_id=users["exp2"].id))
        s.commit()
    filters = [
        {},
        {"state": "pending"},
        {"state": "reviewed"},
        {"medins_code": "H2"},
        {"rule_id": "R-B"},
        {"assignee_id": users["aud1"].id},
        {"overdue_on": dt.date(2100, 1, 1)},
        {"after_id": first.id, "limit": 2},
    ]
    with app.state.read_session() as s, app.state.engine.connect() as conn:
        for name in ("aud1", "hosp1", "hosp2", "exp2", "exp1"):
            user = users[name]
            for f in filters:
                q = workflow.visible(select(ReviewItem.id), user)
                if f.get("state"):
                    q = q.where(ReviewItem.state == f["state"])
                if f.get("medins_code"):
                    q = q.where(ReviewItem.medins_code == f["medins_code"])
                if f.get("rule_id"):
                    q = q.where(ReviewItem.rule_id == f["rule_id"])
                if f.get("assignee_id") is not None:
                    q = q.where(ReviewItem.assignee_id == f["assignee_id"])
                if f.get("overdue_on"):
                    q = q.where(
                        ReviewItem.state == "notified", ReviewItem.appeal_deadline < f["overdue_on"]
                    )
                q = q.where(ReviewItem.id > f.get("after_id", 0)).order_by(ReviewItem.id)
                expected = list(s.scalars(q.limit(f.get("limit", 50))))
                got = [r.id for r in workflow.list_items(conn, user, **f)]
                assert got == expected, (name, f)
            seen = set(s.scalars(workflow.visible(select(ReviewItem.id), user)))
            for item in items:
                if item.id in seen:
                    assert workflow.find_item(conn, user, item.id).jr_id == item.jr_id
                else:
                    with pytest.raises(workflow.NotFound):
                        workflow.find_item(conn, user, item.id)
        assert [r.id for r in workflow.list_items(conn, users["exp2"])] == [second.id]
        assert {r.medins_code for r in workflow.list_items(conn, users["hosp1"])} == {"H1"}
