"""A pipeline run writing the store while the service is up: no lock errors, the service serves
the last complete snapshot, then the new one."""

from __future__ import annotations

from tests.service.conftest import finding, item_ids, settlement_row, write_table

from huiyan.engine import Store
from huiyan.service.app import sync_findings

API = "/api/v1"


def test_writer_is_never_blocked_and_new_findings_arrive_after_it(client, app, store_path) -> None:
    assert len(item_ids(client)) == 5
    first = client.get(f"{API}/outputs/snapshot", headers=client.as_("aud1")).json()["snapshot"]
    # a `huiyan run` opens the store read-write while the service is serving
    with Store(store_path) as writer:
        write_table(writer, "finding", [finding("J6", "S6", "H2", amt="66.00")])
        write_table(writer, "setl_list", [settlement_row("S6", "H2")])
        assert sync_findings(app) is None  # store busy: nothing published, nothing fails
        assert len(item_ids(client)) == 5
        assert client.get(f"{API}/outputs/cases/S1", headers=client.as_("aud1")).status_code == 200
        assert client.get(f"{API}/outputs/cases/S6", headers=client.as_("aud1")).status_code == 404
    result = sync_findings(app)
    assert result is not None and result.created == 1
    ids = item_ids(client)
    assert len(ids) == 6 and "J6" in ids
    second = client.get(f"{API}/outputs/snapshot", headers=client.as_("aud1")).json()["snapshot"]
    assert second != first
    assert client.get(f"{API}/outputs/cases/S6", headers=client.as_("aud1")).status_code == 200
    # a second writer run after the service switched: still no lock error
    with Store(store_path) as writer:
        assert writer.count("finding") == 6
    # nothing changed since: no new snapshot
    assert sync_findings(app) is None


def test_case_output_is_desensitised_unless_allowed(client) -> None:
    r = client.get(f"{API}/outputs/cases/S1", headers=client.as_("aud1")).json()
    s = r["settlement"]
    assert s["psn_name"] == "张**"
    assert s["certno"] == "110***********1234"
    assert s["psn_no"].startswith("P") and s["psn_no"] != "P001" and len(s["psn_no"]) == 17
    assert (
        "13812345678" not in r["findings"][0]["vola_cont"]
        and "138****5678" in r["findings"][0]["vola_cont"]
    )
    # the same person gets the same pseudonym in the review list (rows still group together)
    items = client.get(f"{API}/reviews", headers=client.as_("aud1")).json()["items"]
    assert {i["psn_no"] for i in items} == {s["psn_no"]}
    # aud2 may see personal data
    r2 = client.get(f"{API}/outputs/cases/S1", headers=client.as_("aud2")).json()
    assert r2["settlement"]["psn_name"] == "张三丰" and r2["settlement"]["psn_no"] == "P001"


def test_export_is_masked_by_default_and_logged(client, app) -> None:
    from sqlalchemy import select

    from huiyan.review.db import AuditEntry

    text = client.get(f"{API}/outputs/export.csv", headers=client.as_("aud2")).text
    assert "P001" not in text and "13812345678" not in text
    text = client.get(
        f"{API}/outputs/export.csv", params={"personal": True}, headers=client.as_("aud2")
    ).text
    assert "P001" in text
    text = client.get(
        f"{API}/outputs/export.csv", params={"personal": True}, headers=client.as_("aud1")
    ).text
    assert "P001" not in text  # aud1 lacks the permission: asking is not enough
    with app.state.read_session() as s:
        ex = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "export").order_by(AuditEntry.seq)
        ).all()
    assert [(e.actor, '"personal": true' in e.detail) for e in ex] == [
        ("aud2", False),
        ("aud2", True),
        ("aud1", False),
    ]


def test_pseudonyms_follow_the_stores_key(client, app, store_path) -> None:
    from huiyan.report.safe import pseudonym, store_key

    with Store(store_path) as writer:
        key = store_key(writer)
    sync_findings(app)  # the store changed: a new snapshot carrying the key
    items = client.get(f"{API}/reviews", headers=client.as_("aud1")).json()["items"]
    assert {i["psn_no"] for i in items} == {pseudonym("P001", key)}
