"""The tamper-evident audit log: every state change, login, export and configuration change.

Each entry's hash covers the previous entry's hash, so editing, deleting or reordering any row
breaks the chain from there on; ``verify`` finds the first broken row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.orm import Session

from huiyan.review.db import AuditEntry, AuditHead, utcnow

GENESIS = "0" * 64


def _digest(
    prev: str, seq: int, at: str, actor: str, action: str, otype: str, oid: str, detail: str
) -> str:
    payload = json.dumps([prev, seq, at, actor, action, otype, oid, detail], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def append(
    session: Session | Connection,
    *,
    actor: str,
    action: str,
    object_type: str = "",
    object_id: str | int = "",
    detail: dict[str, Any] | None = None,
) -> int:
    """Append one entry inside the caller's transaction (it commits with the change it records).

    ``session``: an ORM session, or a Core connection in its write transaction.

    Returns the entry's sequence number. Core statements on the session's connection: this
    runs inside every write, whose lock it holds, so it is kept to three short statements.
    """
    if isinstance(session, Session):
        session.flush()  # the change being recorded reaches the database first
        conn = session.connection()
    else:
        conn = session
    # UPDATE first: on PostgreSQL the row lock serialises concurrent appenders until commit;
    # SQLite write transactions are already serialised.
    head = conn.execute(_BUMP).first()
    if head is None:
        conn.execute(insert(AuditHead).values(id=1, seq=1, hash=GENESIS))
        seq, prev = 1, GENESIS
    else:
        seq, prev = int(head[0]), head[1]
    at = utcnow().replace(microsecond=0)
    text = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str)
    oid = str(object_id)
    h = _digest(prev, seq, at.isoformat(), actor, action, object_type, oid, text)
    entry = {
        "e_seq": seq,
        "e_at": at,
        "e_actor": actor,
        "e_action": action,
        "e_object_type": object_type,
        "e_object_id": oid,
        "e_detail": text,
        "e_prev_hash": prev,
        "e_hash": h,
    }
    # The statements are built once (module level): building and cache-keying a statement per
    # call cost more CPU than executing it, and this runs while the chain's lock is held.
    if conn.dialect.name == "postgresql":
        # Entry and head in one statement: one round trip fewer under the head row's lock.
        conn.execute(_INSERT_AND_SET_HEAD, {**entry, "head_hash": h})
    else:
        conn.execute(_INSERT, entry)
        conn.execute(_SET_HEAD, {"head_hash": h})
    return seq


_BUMP = (
    update(AuditHead)
    .where(AuditHead.id == 1)
    .values(seq=AuditHead.seq + 1)
    .returning(AuditHead.seq, AuditHead.hash)
)
_ENTRY_COLUMNS = (
    "seq",
    "at",
    "actor",
    "action",
    "object_type",
    "object_id",
    "detail",
    "prev_hash",
    "hash",
)
_INSERT = insert(AuditEntry).values({c: bindparam(f"e_{c}") for c in _ENTRY_COLUMNS})
_SET_HEAD = update(AuditHead).where(AuditHead.id == 1).values(hash=bindparam("head_hash"))
# PostgreSQL: a data-modifying CTE runs even though nothing reads it.
_INSERT_AND_SET_HEAD = _SET_HEAD.add_cte(_INSERT.cte("new_entry"))


@dataclass(frozen=True)
class Verdict:
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    reason: str = ""


def entries(session: Session, batch: int = 5000) -> Iterator[AuditEntry]:
    last = 0
    while True:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.seq > last).order_by(AuditEntry.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def verify(session: Session) -> Verdict:
    """Recompute the chain; the head row must match the last entry (catches truncation)."""
    prev, expected, n = GENESIS, 1, 0
    for e in entries(session):
        n += 1
        if e.seq != expected:
            return Verdict(False, n, e.seq, f"缺少第 {expected} 条记录 (序号不连续)")
        if e.prev_hash != prev:
            return Verdict(False, n, e.seq, "前序哈希不匹配")
        h = _digest(
            prev, e.seq, e.at.isoformat(), e.actor, e.action, e.object_type, e.object_id, e.detail
        )
        if h != e.hash:
            return Verdict(False, n, e.seq, "记录内容与哈希不符 (已被修改)")
        prev, expected = e.hash, expected + 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != expected - 1 or head.hash != prev):
        return Verdict(False, n, expected, f"日志末尾被删除 (应有 {head.seq} 条)")
    return Verdict(True, n)
