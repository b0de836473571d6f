"""``/reviews``: list, initial review, bulk review, assignment, notification, re-review, votes.

The reviewer's hot reads (list, open) run on the event loop (``async def`` with short blocking
reads: a few indexed statements, never waiting for a lock); a thread-pool hop per request cost
more CPU than the read itself and made the write-lock holder wait for the GIL behind every other
request thread of its worker. Everything that writes runs in the thread pool (``def``): waiting
for the write lock there stalls one request, not the worker's event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Row, func, select

from huiyan.review import workflow
from huiyan.review.config import reasons
from huiyan.review.db import ReviewItem, User
from huiyan.service.api.common import item_json
from huiyan.service.app import expire_appeals
from huiyan.service.auth import Principal
from huiyan.service.deps import CurrentUser, Db, require_role

router = APIRouter(prefix="/reviews", tags=["reviews"])
Reviewer = Annotated[Principal, Depends(require_role("auditor", "admin"))]
Expert = Annotated[Principal, Depends(require_role("expert"))]


class Decision(BaseModel):
    outcome: str
    amount: str | None = None
    reason: str | None = None
    note: str | None = None
    version: int | None = None


class Bulk(BaseModel):
    rule_id: str
    medins_code: str
    outcome: str
    reason: str | None = None
    note: str | None = None


class Assign(BaseModel):
    item_ids: list[int]
    assignee_id: int


class Notify(BaseModel):
    medins_code: str | None = None


class Reviewer2(BaseModel):
    reviewer_id: int


class Cross(BaseModel):
    experts: int | None = None


class Vote(BaseModel):
    outcome: str
    amount: str | None = None
    note: str | None = None


@router.get("")
async def list_items(
    request: Request,
    user: CurrentUser,
    state: str | None = None,
    medins_code: str | None = None,
    rule_id: str | None = None,
    assignee_id: int | None = None,
    overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    after_id: Annotated[int, Query(ge=0)] = 0,
) -> JSONResponse:
    """Review items visible to the user (a hospital sees only its own), in id order."""
    app_state = request.app.state
    query: dict[str, Any] = {
        "state": state,
        "medins_code": medins_code,
        "rule_id": rule_id,
        "assignee_id": assignee_id,
        "overdue_on": app_state.today() if overdue else None,
        "after_id": after_id,
        "limit": limit,
    }
    # A Core connection and plain rows, no ORM session: this is the reviewers' hottest read.
    with app_state.engine.connect() as conn:
        rows = workflow.list_items(conn, user, **query)
        if any(_expired(request, i) for i in rows) and not overdue:
            conn.rollback()
            await run_in_threadpool(expire_appeals, request.app)
            rows = workflow.list_items(conn, user, **query)  # a new read transaction
    return JSONResponse(
        {
            "items": [item_json(i, user, request) for i in rows],
            "next_after_id": rows[-1].id if len(rows) == limit else None,
        }
    )


@router.get("/reasons")
def reason_codes(user: CurrentUser) -> dict[str, str]:
    return reasons()


@router.get("/workload")
def workload(db: Db, user: Reviewer) -> list[dict[str, Any]]:
    """Open items per assignee (unassigned under ``null``)."""
    rows = db.execute(
        select(ReviewItem.assignee_id, User.username, ReviewItem.state, func.count())
        .outerjoin(User, User.id == ReviewItem.assignee_id)
        .where(ReviewItem.state != "final")
        .group_by(ReviewItem.assignee_id, User.username, ReviewItem.state)
        .order_by(ReviewItem.assignee_id, ReviewItem.state)
    ).all()
    return [{"assignee_id": a, "username": u, "state": s, "items": n} for a, u, s, n in rows]


@router.get("/{item_id}")
async def get_item(item_id: int, request: Request, user: CurrentUser) -> JSONResponse:
    with request.app.state.engine.connect() as conn:
        item = workflow.find_item(conn, user, item_id)
        if _expired(request, item):
            conn.rollback()
            await run_in_threadpool(expire_appeals, request.app)
            item = workflow.find_item(conn, user, item_id)
    return JSONResponse(item_json(item, user, request))


def _expired(request: Request, item: ReviewItem | Row[Any]) -> bool:
    """Notified, and its appeal deadline has passed: it is final, whether or not the
    background task got to it yet (closed on first sight)."""
    return (
        item.state == "notified"
        and item.appeal_deadline is not None
        and item.appeal_deadline < request.app.state.today()
    )


def _decide(
    step: Callable[..., ReviewItem],
    item_id: int,
    body: Decision,
    request: Request,
    user: Principal,
) -> ReviewItem:
    """An initial or final decision from its request body, committed.

    The item is read and checked on a read connection (a Core connection: no ORM loading),
    returned to the pool before the write session takes one, so the write transaction
    (SQLite's one write lock, shared by every worker) lasts one conditional UPDATE plus the
    audit entry."""
    state = request.app.state
    with state.write_session() as db, state.engine.connect() as read:
        item = step(db, user, item_id, **_fields(body), read=read)
        db.commit()
    return item


def _fields(body: Decision) -> dict[str, Any]:
    """The decision's own arguments of ``workflow.initial_review``/``final_review``."""
    return {
        "outcome": body.outcome,
        "amount": body.amount,
        "reason": body.reason,
        "note": body.note,
        "version": body.version,
    }


async def _decision(
    step: Callable[..., ReviewItem],
    item_id: int,
    body: Decision,
    request: Request,
    user: Principal,
) -> JSONResponse:
    """SQLite: on the loop (see ``app.writes_on_loop``). PostgreSQL: queued to the worker's
    decision writer, answered once the batch holding it has committed."""
    state = request.app.state
    if state.writes_on_loop:
        item = _decide(step, item_id, body, request, user)
    else:
        item = await state.decision_writer.submit(step, user, item_id, **_fields(body))
    return JSONResponse(item_json(item, user, request))


@router.post("/{item_id}/initial")
async def initial(item_id: int, body: Decision, request: Request, user: Reviewer) -> JSONResponse:
    return await _decision(workflow.initial_review, item_id, body, request, user)


@router.post("/bulk")
def bulk(body: Bulk, db: Db, user: Reviewer) -> dict[str, Any]:
    """Confirm (or dismiss) every pending item of one rule at one hospital."""
    ids = workflow.bulk_initial_review(
        db,
        user,
        rule_id=body.rule_id,
        medins_code=body.medins_code,
        outcome=body.outcome,
        reason=body.reason,
        note=body.note,
    )
    db.commit()
    return {"items": ids}


@router.post("/assign")
def assign(body: Assign, db: Db, user: Reviewer) -> dict[str, int]:
    n = workflow.assign(db, user, body.item_ids, body.assignee_id)
    db.commit()
    return {"assigned": n}


@router.post("/notify")
def notify(body: Notify, request: Request, db: Db, user: Reviewer) -> dict[str, int]:
    """Send initially reviewed items to their hospitals; the appeal deadline starts now."""
    n = workflow.notify(
        db,
        user,
        request.app.state.policy,
        medins_code=body.medins_code,
        today=request.app.state.today(),
    )
    db.commit()
    return {"notified": n}


@router.post("/close-expired")
def close_expired(request: Request, db: Db, user: Reviewer) -> dict[str, int]:
    """Items whose appeal deadline passed: the initial decision becomes final. The service's
    background task does this every poll interval, and reading such an item closes it."""
    n = workflow.close_expired(db, today=request.app.state.today())
    db.commit()
    return {"closed": n}


@router.post("/{item_id}/second-review")
def second_review(
    item_id: int, body: Reviewer2, request: Request, db: Db, user: Reviewer
) -> dict[str, Any]:
    item = workflow.start_second_review(db, user, item_id, body.reviewer_id)
    db.commit()
    return item_json(item, user, request)


@router.post("/{item_id}/cross-review")
def cross_review(
    item_id: int, body: Cross, request: Request, db: Db, user: Reviewer
) -> dict[str, Any]:
    experts = workflow.start_cross_review(
        db, user, item_id, request.app.state.policy, experts=body.experts
    )
    db.commit()
    return {"experts": experts}


@router.post("/{item_id}/vote")
def vote(item_id: int, body: Vote, request: Request, db: Db, user: Expert) -> dict[str, Any]:
    item = workflow.vote(
        db, user, item_id, outcome=body.outcome, amount=body.amount, note=body.note
    )
    db.commit()
    return item_json(item, user, request)


@router.post("/{item_id}/final")
async def final(item_id: int, body: Decision, request: Request, user: Reviewer) -> JSONResponse:
    return await _decision(workflow.final_decision, item_id, body, request, user)
