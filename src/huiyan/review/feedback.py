"""Doctors' answers (3103) to real-time warnings, kept in the workflow database.

A "continue" (dspo_way 1) must carry a reason; a "continue" on a rule already continued for
the same stay at the same institution is marked ``repeated``: the auditors' list of warnings
that doctors keep overriding. Every answer is also appended to the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from huiyan.review import auditlog
from huiyan.review.db import RealtimeFeedback

CONTINUE, MODIFY = "1", "2"


@dataclass(frozen=True)
class Answer:
    """One answered warning as the service received it."""

    warn_rslt_id: str
    rule_id: str | None
    setl_id: str | None
    medins_code: str | None
    dspo_way: str
    dspo_way_rea: str | None
    warn_type: str


def record(session: Session, answers: Sequence[Answer], *, username: str) -> list[bool]:
    """Store ``answers`` (in the caller's write transaction); returns each one's ``repeated``."""
    repeated: list[bool] = []
    continued: set[tuple[str | None, str | None, str | None]] = set()
    for a in answers:
        key = (a.medins_code, a.setl_id, a.rule_id)
        again = a.dspo_way == CONTINUE and (key in continued or _continued_before(session, a))
        if a.dspo_way == CONTINUE:
            continued.add(key)
        session.add(
            RealtimeFeedback(
                warn_rslt_id=a.warn_rslt_id,
                rule_id=a.rule_id,
                setl_id=a.setl_id,
                medins_code=a.medins_code,
                dspo_way=a.dspo_way,
                dspo_way_rea=a.dspo_way_rea,
                warn_type=a.warn_type,
                username=username,
                repeated=again,
            )
        )
        auditlog.append(
            session,
            actor=username,
            action="realtime_feedback",
            object_type="warning",
            object_id=a.warn_rslt_id,
            detail={"rule_id": a.rule_id, "dspo_way": a.dspo_way, "repeated": again},
        )
        repeated.append(again)
    return repeated


def _continued_before(session: Session, a: Answer) -> bool:
    q = select(RealtimeFeedback.id).where(
        RealtimeFeedback.dspo_way == CONTINUE,
        RealtimeFeedback.medins_code == a.medins_code,
        RealtimeFeedback.setl_id == a.setl_id,
        RealtimeFeedback.rule_id == a.rule_id,
    )
    return session.execute(q.limit(1)).first() is not None


def listing(session: Session, medins_code: str | None = None) -> list[dict[str, Any]]:
    """All answers in the order received, one institution's when ``medins_code`` is given."""
    q = select(RealtimeFeedback).order_by(RealtimeFeedback.id)
    if medins_code is not None:
        q = q.where(RealtimeFeedback.medins_code == medins_code)
    return [
        {
            "warn_rslt_id": f.warn_rslt_id,
            "rule_id": f.rule_id,
            "setl_id": f.setl_id,
            "medins_code": f.medins_code,
            "dspo_way": f.dspo_way,
            "dspo_way_rea": f.dspo_way_rea,
            "warn_type": f.warn_type,
            "user": f.username,
            "time": f.at.strftime("%Y-%m-%d %H:%M:%S"),
            "repeated": f.repeated,
        }
        for f in session.scalars(q)
    ]
