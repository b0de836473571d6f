"""Concurrent decisions through the API: each recorded exactly once, the audit chain intact.

On PostgreSQL decisions are group-committed by the worker's decision writer; the test holds the
chain head's lock while the requests queue, so that they land in one batch (a conflicting
decision among them included) and each is still checked and answered on its own.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, func, select, text
from tests.service.conftest import finding, make_store

from huiyan.review import auditlog
from huiyan.review.db import AuditEntry, ReviewItem

API = "/api/v1"
N = 24
FINDINGS = [finding(f"J{i}", f"S{i}", "H1", amt="100.00") for i in range(N)]


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return make_store(tmp_path / "store.duckdb", FINDINGS)


def _pending(client: Any) -> list[dict[str, Any]]:
    r = client.get(
        f"{API}/reviews", params={"limit": 500, "state": "pending"}, headers=client.as_("aud1")
    )
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert len(items) == N
    return items


def _requests(client: Any, items: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any], str]]:
    """One decision per item but the last with the version the reviewer saw, from both
    reviewers; a second decision on item 0 with the same (then stale) version; a wrong version;
    an invalid amount on the last item (which stays pending)."""
    reqs = [
        (it["id"], {"outcome": "confirmed", "version": it["version"]}, ("aud1", "aud2")[k % 2])
        for k, it in enumerate(items[:-1])
    ]
    first = items[0]
    reqs.insert(1, (first["id"], {"outcome": "dismissed", "version": first["version"]}, "aud2"))
    reqs.append(
        (items[1]["id"], {"outcome": "dismissed", "version": items[1]["version"] + 7}, "aud1")
    )
    reqs.append((items[-1]["id"], {"outcome": "partial", "amount": "900"}, "aud2"))
    for who in ("aud1", "aud2"):
        client.as_(who)  # signed in (login is audited) before anything holds the chain
    return reqs


def _post(client: Any, req: tuple[int, dict[str, Any], str]) -> tuple[int, int, dict[str, Any]]:
    item_id, body, who = req
    r = client.post(f"{API}/reviews/{item_id}/initial", json=body, headers=client.as_(who))
    return item_id, r.status_code, r.json()


def _check(app: Any, items: list[dict[str, Any]], results: list[tuple[int, int, Any]]) -> None:
    ok = Counter(item_id for item_id, status, _ in results if status == 200)
    statuses = Counter(status for _, status, _ in results)
    # Every item decided exactly once; the stale second decision on item 0 and the wrong
    # version are conflicts; the invalid amount is rejected on its own.
    assert set(ok) == {it["id"] for it in items[:-1]} and set(ok.values()) == {1}, results
    assert statuses == {200: N - 1, 409: 2, 422: 1}, statuses
    answered = {item_id: body for item_id, status, body in results if status == 200}
    with app.state.read_session() as s:
        rows = {i.id: i for i in s.scalars(select(ReviewItem))}
        logged = Counter(
            int(o)
            for o in s.scalars(
                select(AuditEntry.object_id).where(AuditEntry.action == "initial_review")
            )
        )
        verdict = auditlog.verify(s)
    assert logged == ok
    assert verdict.ok, verdict
    for item_id, body in answered.items():
        row = rows[item_id]
        # What was acknowledged is what was committed.
        assert (row.initial_outcome, row.version) == (body["initial_outcome"], body["version"])
        assert row.version == 2


def test_concurrent_decisions_exactly_once(client: Any, app: Any) -> None:
    items = _pending(client)
    reqs = _requests(client, items)
    writer = app.state.decision_writer
    if writer is None:  # SQLite: decisions on the loop, one write transaction each
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda q: _post(client, q), reqs))
        _check(app, items, results)
        return
    # PostgreSQL: hold the chain head while every request queues; the writer's first batch
    # waits for it, the rest then go in one batch.
    with app.state.engine.connect() as hold:
        hold.execute(text("SELECT 1 FROM audit_head WHERE id = 1 FOR UPDATE"))
        with ThreadPoolExecutor(len(reqs)) as pool:
            futures = [pool.submit(_post, client, q) for q in reqs]
            deadline = time.monotonic() + 30
            while writer._queue.qsize() < len(reqs) - 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert writer._queue.qsize() == len(reqs) - 1
            assert not any(f.done() for f in futures)  # nothing answered before a commit
            hold.rollback()
            results = [f.result() for f in futures]
    _check(app, items, results)


# Group commit is the PostgreSQL path (SQLite decides on the event loop, one at a time).
@pytest.mark.parametrize("state_url", ["postgresql"], indirect=True)
def test_failed_commit_fails_every_decision_of_the_batch(
    client: Any, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = app.state.decision_writer
    assert writer is not None
    items = _pending(client)
    reqs = _requests(client, items)
    real_commit = Connection.commit

    def commit(self: Connection) -> None:
        if threading.current_thread().name == "decision-writer":
            raise RuntimeError("commit lost")
        real_commit(self)

    monkeypatch.setattr(Connection, "commit", commit)
    with ThreadPoolExecutor(len(reqs)) as pool:
        results = list(pool.map(lambda q: _post(client, q), reqs))
    # No decision acknowledged; the ones refused on their own checks keep their answer (the
    # stale duplicate is refused only when it shares its batch with the first decision).
    assert {s for _, s, _ in results} <= {503, 409, 422}, results
    by_request = {(q[0], str(q[1])): s for q, (_, s, _) in zip(reqs, results, strict=True)}
    assert by_request[reqs[-2][0], str(reqs[-2][1])] == 409
    assert by_request[reqs[-1][0], str(reqs[-1][1])] == 422
    assert Counter(s for _, s, _ in results)[503] >= N - 2
    with app.state.read_session() as s:
        assert s.scalar(select(func.count()).where(ReviewItem.state != "pending")) == 0
        assert s.scalar(select(func.count()).where(AuditEntry.action == "initial_review")) == 0
        assert auditlog.verify(s).ok
