"""The review state machine: finding → 初审 → 已通知医院 → 医院申诉 → 复审/交叉互评 → 终审.

Every function takes the acting user, checks the role and the institution, changes one or more
review items and appends the change to the audit log in the same transaction. The caller
commits. Errors are ``WorkflowError`` subclasses the service maps to HTTP statuses.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol, cast

from sqlalchemy import (
    Connection,
    Row,
    Select,
    Table,
    Update,
    and_,
    bindparam,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from huiyan.errors import HuiyanError
from huiyan.review import auditlog
from huiyan.review.config import WorkflowPolicy, add_working_days, reasons
from huiyan.review.db import Appeal, Attachment, CrossVote, ReviewItem, User, utcnow
from huiyan.review.migrate import lock

STATES = {
    "pending": "待初审",
    "reviewed": "已初审",
    "notified": "已通知医院",
    "appealed": "医院申诉",
    "second_review": "复审",
    "cross_review": "交叉互评",
    "final": "终审",
}
OUTCOMES = {"confirmed": "确认", "partial": "部分确认", "dismissed": "驳回"}
DEDUCTED = ("confirmed", "partial")
SYSTEM = "system"


class Actor(Protocol):
    """Who acts: a ``User`` row or the service's authenticated principal."""

    @property
    def id(self) -> int: ...
    @property
    def username(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def medins_code(self) -> str | None: ...


class WorkflowError(HuiyanError):
    """Base: a message in Chinese for the user."""


class NotFound(WorkflowError):
    pass


class Forbidden(WorkflowError):
    pass


class Conflict(WorkflowError):
    """Wrong state for this action, or someone else changed the item first."""


class Invalid(WorkflowError):
    pass


def fen(amount: Decimal | str | int | float) -> int:
    return int((Decimal(str(amount)) * 100).quantize(Decimal(1)))


def yuan(f: int | None) -> Decimal | None:
    return None if f is None else (Decimal(f) / 100).quantize(Decimal("0.01"))


# ---------------------------------------------------------------- visibility
def visible(query: Select, user: Actor) -> Select:
    """Restrict a ``select(ReviewItem)`` to what ``user`` may see (the isolation promise)."""
    if user.role == "hospital":
        return query.where(ReviewItem.medins_code == (user.medins_code or "\0"))
    if user.role == "expert":
        drawn = select(CrossVote.item_id).where(CrossVote.expert_id == user.id)
        return query.where(ReviewItem.id.in_(drawn))
    return query


def get_item(session: Session, user: Actor, item_id: int, *, lock: bool = False) -> ReviewItem:
    """The item if ``user`` may see it; an invisible item is reported as missing (no IDOR oracle)."""
    kind, params = _reader(user)
    item = session.scalars(_ITEM_BY_ID[kind, lock], {**params, "item_id": item_id}).first()
    if item is None:
        raise NotFound(f"复核事项 {item_id} 不存在")
    return item


def find_item(conn: Connection, user: Actor, item_id: int) -> Row[Any]:
    """``get_item`` as a plain row (attributes named as ``ReviewItem``'s), for reads that
    change nothing: no ORM object, a fraction of the CPU. Same visibility rule."""
    kind, params = _reader(user)
    row = conn.execute(_ROW_BY_ID[kind], {**params, "item_id": item_id}).first()
    if row is None:
        raise NotFound(f"复核事项 {item_id} 不存在")
    return row


def list_items(
    conn: Connection,
    user: Actor,
    *,
    state: str | None = None,
    medins_code: str | None = None,
    rule_id: str | None = None,
    assignee_id: int | None = None,
    overdue_on: dt.date | None = None,
    after_id: int = 0,
    limit: int = 50,
) -> Sequence[Row[Any]]:
    """Items ``user`` may see (``visible``), in id order after ``after_id``, as plain rows.

    ``overdue_on``: only notified items whose appeal deadline is before that day."""
    kind, params = _reader(user)
    filters = {
        "state": state or None,
        "medins_code": medins_code or None,
        "rule_id": rule_id or None,
        "assignee_id": assignee_id,
        "overdue_on": overdue_on,
    }
    given = tuple(k for k, v in filters.items() if v is not None)
    params.update({f"f_{k}": filters[k] for k in given}, after_id=after_id, limit=limit)
    return conn.execute(_list_statement(kind, given), params).all()


# Statements of the hot reads, built once per kind of reader (and filter set): building and
# cache-keying a statement on every request cost more CPU than running it.
_ITEMS = cast(Table, ReviewItem.__table__)


def _reader(user: Actor) -> tuple[str, dict[str, Any]]:
    """The kind of reader for ``_visible_to`` and its parameters."""
    if user.role == "hospital":
        return "hospital", {"reader_medins": user.medins_code or "\0"}
    if user.role == "expert":
        return "expert", {"reader_id": user.id}
    return "all", {}


def _visible_to(q: Select, kind: str) -> Select:
    """``visible`` with the reader as bound parameters (the statement is reused)."""
    if kind == "hospital":
        return q.where(_ITEMS.c.medins_code == bindparam("reader_medins"))
    if kind == "expert":
        drawn = select(CrossVote.item_id).where(CrossVote.expert_id == bindparam("reader_id"))
        return q.where(_ITEMS.c.id.in_(drawn))
    return q


def _item_by_id(q: Select, kind: str) -> Select:
    return _visible_to(q.where(_ITEMS.c.id == bindparam("item_id")), kind)


_KINDS = ("all", "hospital", "expert")
_ITEM_BY_ID = {
    (kind, lock): (
        _item_by_id(select(ReviewItem), kind).with_for_update()
        if lock
        else _item_by_id(select(ReviewItem), kind)
    )
    for kind in _KINDS
    for lock in (False, True)
}
_ROW_BY_ID = {kind: _item_by_id(select(_ITEMS), kind) for kind in _KINDS}


@functools.cache
def _list_statement(kind: str, filters: tuple[str, ...]) -> Select:
    t = _ITEMS
    q = _visible_to(select(t), kind)
    for f in filters:
        if f == "overdue_on":
            q = q.where(t.c.state == "notified", t.c.appeal_deadline < bindparam("f_overdue_on"))
        else:
            q = q.where(t.c[f] == bindparam(f"f_{f}"))
    return q.where(t.c.id > bindparam("after_id")).order_by(t.c.id).limit(bindparam("limit"))


def _need(user: Actor, *roles: str) -> None:
    if user.role not in roles:
        raise Forbidden("当前角色无权执行此操作")


def _state(item: ReviewItem, *states: str) -> None:
    if item.state not in states:
        raise Conflict(f"复核事项 {item.id} 当前状态为「{STATES[item.state]}」, 不能执行此操作")


def _decidable(
    session: Session | Connection,
    user: Actor,
    item_id: int,
    version: int | None,
    state: str,
    read: Session | Connection | None,
) -> ReviewItem:
    """The item a reviewer decides on: as they saw it (``version``) and in ``state``.

    Read in ``read`` when given (outside the write transaction; its read transaction is ended
    here): a ``Connection`` gives a detached copy of the row, without the ORM's loading.
    ``read`` may be ``session`` itself (a batch of decisions reads in its write transaction)."""
    if isinstance(read, Connection):
        item = ReviewItem(**find_item(read, user, item_id)._mapping)
        if read is not session:
            read.close()  # back to the pool before the write transaction takes one
    elif read is not None:
        item = get_item(read, user, item_id)
        read.commit()  # ends the read transaction (attributes stay loaded): no connection held
    elif isinstance(session, Session):
        item = get_item(session, user, item_id)
    else:
        raise TypeError("a decision written on a Connection needs ``read``")
    if version is not None and version != item.version:
        raise Conflict(f"复核事项 {item_id} 已被他人修改, 请刷新后重试")
    _state(item, state)
    return item


def _check_decision(
    item: ReviewItem, outcome: str, amount: Decimal | str | None, reason: str | None
) -> int:
    if outcome not in OUTCOMES:
        raise Invalid(f"结论 {outcome!r} 无效, 应为 {'/'.join(OUTCOMES)}")
    if reason is not None and reason not in reasons():
        raise Invalid(f"理由代码 {reason!r} 无效")
    if outcome == "confirmed":
        return item.vola_amt_fen
    if outcome == "dismissed":
        return 0
    if amount is None:
        raise Invalid("部分确认须填写确认金额")
    try:
        f = fen(amount)
    except ArithmeticError:
        raise Invalid(f"金额 {amount!r} 无效") from None
    if not 0 < f < item.vola_amt_fen:
        raise Invalid(f"部分确认金额须大于0且小于违规金额 {yuan(item.vola_amt_fen)}")
    return f


def _log(
    session: Session | Connection, user: Actor | str, action: str, item: ReviewItem, **detail: Any
) -> None:
    actor = user if isinstance(user, str) else user.username
    auditlog.append(
        session,
        actor=actor,
        action=action,
        object_type="review_item",
        object_id=item.id,
        detail={"jr_id": item.jr_id, "state": item.state, **detail},
    )


def _final_values(
    outcome: str, amount: int, by: int | None, reason: str | None, note: str | None
) -> dict[str, Any]:
    return {
        "state": "final",
        "final_outcome": outcome,
        "final_amount_fen": amount,
        "final_by": by,
        "final_reason": reason,
        "final_note": note,
        "final_at": utcnow(),
    }


def _finalise(
    item: ReviewItem,
    outcome: str,
    amount: int,
    by: int | None,
    reason: str | None,
    note: str | None,
) -> None:
    for k, v in _final_values(outcome, amount, by, reason, note).items():
        setattr(item, k, v)


def _write_decision(
    session: Session | Connection, item: ReviewItem, values: dict[str, Any]
) -> None:
    """Apply a decision to ``item`` as it was read: one conditional UPDATE (same version and
    state), so the item may have been read and checked outside the write transaction.

    Someone else's change in between matches no row: ``Conflict``, nothing written. ``item``
    then carries the new values as committed state (no second UPDATE at flush).
    """
    params = {f"new_{k}": v for k, v in values.items()}
    params.update(
        item_id=item.id,
        old_version=item.version,
        old_state=item.state,
        new_version=item.version + 1,
    )
    # A Core statement on the session's connection: the ORM's bulk-UPDATE path cost several
    # times the statement itself, and this runs while the write lock is held.
    conn = session.connection() if isinstance(session, Session) else session
    done = conn.execute(_decision_update(tuple(sorted(values))), params)
    if done.rowcount != 1:
        raise Conflict(f"复核事项 {item.id} 已被他人修改, 请刷新后重试")
    for k, v in values.items():
        set_committed_value(item, k, v)
    set_committed_value(item, "version", item.version + 1)


@functools.cache
def _decision_update(columns: tuple[str, ...]) -> Update:
    """The conditional UPDATE of ``_write_decision`` for one set of columns, built once."""
    t = _ITEMS
    return (
        update(t)
        .where(
            t.c.id == bindparam("item_id"),
            t.c.version == bindparam("old_version"),
            t.c.state == bindparam("old_state"),
        )
        .values(
            {**{c: bindparam(f"new_{c}") for c in columns}, "version": bindparam("new_version")}
        )
    )


# ---------------------------------------------------------------- import
FINDING_COLUMNS = (
    "jr_id",
    "setl_id",
    "mdtrt_id",
    "psn_no",
    "medins_code",
    "rule_id",
    "rule_name",
    "vola_bhvr_type",
    "sev_deg",
    "vola_amt",
    "vola_cont",
    "vola_evid",
    "detail",
    "stage",
)


@dataclass(frozen=True)
class ImportResult:
    created: int
    auto_confirmed: int
    existing: int


def import_findings(
    session: Session,
    findings: Iterable[dict[str, Any]],
    policy: WorkflowPolicy,
    *,
    snapshot: str | None = None,
) -> ImportResult:
    """Open a review item for every finding not seen before (idempotent on ``jr_id``)."""
    lock(session.connection(), 0x6A72)  # two workers importing the same snapshot
    known = set(session.scalars(select(ReviewItem.jr_id)))
    demoted: set[str] = set()
    if policy.demote_flagged_rules:
        demoted = {r["rule_id"] for r in rule_quality(session, policy) if r["needs_revision"]}
    created = auto = existing = 0
    now = utcnow()
    for f in findings:
        if f["jr_id"] in known:
            existing += 1
            continue
        known.add(f["jr_id"])
        item = ReviewItem(
            jr_id=f["jr_id"],
            setl_id=f["setl_id"],
            mdtrt_id=f.get("mdtrt_id"),
            psn_no=f.get("psn_no"),
            medins_code=f.get("medins_code") or "",
            rule_id=f["rule_id"],
            rule_name=f["rule_name"],
            vola_bhvr_type=f["vola_bhvr_type"],
            sev_deg=f["sev_deg"],
            vola_amt_fen=fen(f["vola_amt"] or 0),
            vola_cont=f["vola_cont"],
            vola_evid=f["vola_evid"],
            detail=f.get("detail"),
            stage=f["stage"],
            snapshot=snapshot,
            state="pending",
            created_at=now,
        )
        if policy.auto_confirm_violations and f["sev_deg"] == "1" and f["rule_id"] not in demoted:
            # 明确违规 confirmed by policy, recorded as such; the hospital can still appeal.
            item.state = "reviewed"
            item.initial_outcome = "confirmed"
            item.initial_amount_fen = item.vola_amt_fen
            item.initial_reason = "R01"
            item.initial_note = "明确违规, 按配置自动确认"
            item.initial_at = now
            item.auto_confirmed = True
            auto += 1
        session.add(item)
        created += 1
    if created:
        auditlog.append(
            session,
            actor=SYSTEM,
            action="import_findings",
            object_type="snapshot",
            object_id=snapshot or "",
            detail={
                "created": created,
                "auto_confirmed": auto,
                "existing": existing,
                "demoted_rules": sorted(demoted),
            },
        )
    return ImportResult(created, auto, existing)


# ---------------------------------------------------------------- 初审
def initial_review(
    session: Session | Connection,
    user: Actor,
    item_id: int,
    *,
    outcome: str,
    amount: Decimal | str | None = None,
    reason: str | None = None,
    note: str | None = None,
    version: int | None = None,
    read: Session | Connection | None = None,
) -> ReviewItem:
    """``read``: a session or connection to read and check the item in, outside ``session``'s
    write transaction (which then holds SQLite's write lock for one UPDATE and the audit
    entry). With ``read``, ``session`` may be a ``Connection`` in a write transaction."""
    _need(user, "auditor", "admin")
    item = _decidable(session, user, item_id, version, "pending", read)
    _write_decision(session, item, _initial_values(item, user, outcome, amount, reason, note))
    _log(
        session,
        user,
        "initial_review",
        item,
        outcome=outcome,
        amount=str(yuan(item.initial_amount_fen)),
        reason=reason,
    )
    return item


def _initial_values(
    item: ReviewItem, user: Actor, outcome: str, amount: Any, reason: str | None, note: str | None
) -> dict[str, Any]:
    f = _check_decision(item, outcome, amount, reason)
    values: dict[str, Any] = {
        "initial_outcome": outcome,
        "initial_amount_fen": f,
        "initial_reason": reason,
        "initial_note": note,
        "initial_by": user.id,
        "initial_at": utcnow(),
    }
    if outcome == "dismissed":
        # Nothing to deduct, nothing for the hospital to appeal.
        values.update(_final_values("dismissed", 0, user.id, reason, note))
    else:
        values["state"] = "reviewed"
    return values


def _apply_initial(
    item: ReviewItem, user: Actor, outcome: str, amount: Any, reason: str | None, note: str | None
) -> None:
    for k, v in _initial_values(item, user, outcome, amount, reason, note).items():
        setattr(item, k, v)


def bulk_initial_review(
    session: Session,
    user: Actor,
    *,
    rule_id: str,
    medins_code: str,
    outcome: str,
    reason: str | None = None,
    note: str | None = None,
) -> list[int]:
    """Confirm (or dismiss) every pending item of one rule at one hospital."""
    _need(user, "auditor", "admin")
    if outcome == "partial":
        raise Invalid("批量操作不支持部分确认")
    items = session.scalars(
        select(ReviewItem)
        .where(
            ReviewItem.rule_id == rule_id,
            ReviewItem.medins_code == medins_code,
            ReviewItem.state == "pending",
        )
        .order_by(ReviewItem.id)
    ).all()
    for item in items:
        _apply_initial(item, user, outcome, None, reason, note)
    if items:
        auditlog.append(
            session,
            actor=user.username,
            action="bulk_initial_review",
            object_type="rule",
            object_id=rule_id,
            detail={"medins_code": medins_code, "outcome": outcome, "items": [i.id for i in items]},
        )
    return [i.id for i in items]


def assign(session: Session, user: Actor, item_ids: Sequence[int], assignee_id: int) -> int:
    _need(user, "auditor", "admin")
    who = session.get(User, assignee_id)
    if who is None or who.role not in ("auditor", "admin") or not who.active:
        raise Invalid(f"用户 {assignee_id} 不是在岗审核员")
    items = session.scalars(
        select(ReviewItem).where(ReviewItem.id.in_(item_ids)).order_by(ReviewItem.id)
    ).all()
    for item in items:
        item.assignee_id = assignee_id
    auditlog.append(
        session,
        actor=user.username,
        action="assign",
        object_type="user",
        object_id=assignee_id,
        detail={"items": [i.id for i in items]},
    )
    return len(items)


# ---------------------------------------------------------------- 通知 / 申诉
def notify(
    session: Session,
    user: Actor,
    policy: WorkflowPolicy,
    *,
    medins_code: str | None = None,
    today: dt.date | None = None,
) -> int:
    """Send every initially reviewed item (of one hospital, or all) to its hospital."""
    _need(user, "auditor", "admin")
    today = today or dt.date.today()
    deadline = add_working_days(today, policy.appeal_working_days, policy.holidays)
    q = select(ReviewItem).where(ReviewItem.state == "reviewed").order_by(ReviewItem.id)
    if medins_code:
        q = q.where(ReviewItem.medins_code == medins_code)
    items = session.scalars(q).all()
    now = utcnow()
    for item in items:
        item.state = "notified"
        item.notified_at = now
        item.appeal_deadline = deadline
    if items:
        auditlog.append(
            session,
            actor=user.username,
            action="notify",
            object_type="medins",
            object_id=medins_code or "*",
            detail={"items": len(items), "deadline": deadline.isoformat()},
        )
    return len(items)


def _own(user: Actor, item: ReviewItem) -> None:
    _need(user, "hospital")
    if item.medins_code != user.medins_code:  # get_item already hides it; belt and braces
        raise NotFound(f"复核事项 {item.id} 不存在")


def appeal(
    session: Session, user: Actor, item_id: int, text: str, *, today: dt.date | None = None
) -> Appeal:
    item = get_item(session, user, item_id)
    _own(user, item)
    _state(item, "notified")
    today = today or dt.date.today()
    if item.appeal_deadline is not None and today > item.appeal_deadline:
        raise Conflict(f"申诉期限 {item.appeal_deadline} 已过")
    if not text.strip():
        raise Invalid("申诉理由不能为空")
    a = Appeal(item_id=item.id, medins_code=item.medins_code, user_id=user.id, text=text)
    session.add(a)
    item.state = "appealed"
    session.flush()
    _log(session, user, "appeal", item, appeal_id=a.id)
    return a


def accept(session: Session, user: Actor, item_id: int) -> ReviewItem:
    """The hospital accepts the initial decision (no appeal)."""
    item = get_item(session, user, item_id)
    _own(user, item)
    _state(item, "notified")
    _finalise(
        item,
        item.initial_outcome or "confirmed",
        item.initial_amount_fen or 0,
        None,
        item.initial_reason,
        "医院接受初审结论",
    )
    _log(session, user, "accept", item)
    return item


def close_expired(session: Session, *, today: dt.date | None = None) -> int:
    """Items whose appeal deadline passed without an appeal: the initial decision stands."""
    today = today or dt.date.today()
    items = session.scalars(
        select(ReviewItem)
        .where(ReviewItem.state == "notified", ReviewItem.appeal_deadline < today)
        .order_by(ReviewItem.id)
    ).all()
    for item in items:
        _finalise(
            item,
            item.initial_outcome or "confirmed",
            item.initial_amount_fen or 0,
            None,
            item.initial_reason,
            "申诉期满未申诉, 初审结论生效",
        )
        _log(session, SYSTEM, "appeal_deadline_passed", item)
    return len(items)


def add_attachment(
    session: Session,
    user: Actor,
    item_id: int,
    *,
    filename: str,
    content_type: str,
    data: bytes,
    directory: Path,
    policy: WorkflowPolicy,
) -> Attachment:
    """Store an appeal attachment on disk under its sha256 (content-addressed, never overwritten)."""
    item = get_item(session, user, item_id)
    _own(user, item)
    _state(item, "appealed")
    a = session.scalars(select(Appeal).where(Appeal.item_id == item.id)).one()
    if len(data) > policy.attachment_max_bytes:
        raise Invalid(f"附件过大: {len(data)} 字节, 上限 {policy.attachment_max_bytes}")
    if not data:
        raise Invalid("附件为空")
    if policy.attachment_types and content_type not in policy.attachment_types:
        raise Invalid(f"不支持的附件类型 {content_type}")
    digest = hashlib.sha256(data).hexdigest()
    path = attachment_path(directory, digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    att = Attachment(
        appeal_id=a.id,
        filename=Path(filename).name[:256] or "attachment",
        content_type=content_type,
        size=len(data),
        sha256=digest,
    )
    session.add(att)
    session.flush()
    _log(session, user, "attachment", item, attachment_id=att.id, sha256=digest, size=len(data))
    return att


def attachment_path(directory: Path, digest: str) -> Path:
    return Path(directory) / digest[:2] / digest


# ---------------------------------------------------------------- 复审 / 交叉互评
def start_second_review(
    session: Session, user: Actor, item_id: int, reviewer_id: int
) -> ReviewItem:
    _need(user, "auditor", "admin")
    item = get_item(session, user, item_id)
    _state(item, "appealed")
    who = session.get(User, reviewer_id)
    if who is None or who.role not in ("auditor", "admin") or not who.active:
        raise Invalid(f"用户 {reviewer_id} 不是在岗审核员")
    if who.id == item.initial_by:
        raise Invalid("复审须由初审以外的审核员进行")
    item.state = "second_review"
    item.second_reviewer_id = who.id
    _log(session, user, "start_second_review", item, reviewer=who.username)
    return item


def start_cross_review(
    session: Session,
    user: Actor,
    item_id: int,
    policy: WorkflowPolicy,
    *,
    experts: int | None = None,
) -> list[int]:
    """Draw experts from other institutions (never the appealing one), least loaded first."""
    _need(user, "auditor", "admin")
    item = get_item(session, user, item_id)
    _state(item, "appealed")
    n = experts or policy.cross_review_experts
    if n < 1:
        raise Invalid("交叉互评专家人数至少为1")
    open_votes = (
        select(CrossVote.expert_id, func.count().label("n"))
        .where(CrossVote.outcome.is_(None))
        .group_by(CrossVote.expert_id)
        .subquery()
    )
    candidates = (
        session.execute(
            select(User.id)
            .outerjoin(open_votes, open_votes.c.expert_id == User.id)
            .where(
                User.role == "expert",
                User.active.is_(True),
                or_(User.medins_code.is_(None), User.medins_code != item.medins_code),
            )
            .order_by(func.coalesce(open_votes.c.n, 0), User.id)
            .limit(n)
        )
        .scalars()
        .all()
    )
    if len(candidates) < n:
        raise Invalid(f"可选专家不足: 需要 {n} 人, 仅有 {len(candidates)} 人 (不含被申诉医院)")
    for eid in candidates:
        session.add(CrossVote(item_id=item.id, expert_id=eid))
    item.state = "cross_review"
    _log(session, user, "start_cross_review", item, experts=list(candidates))
    return list(candidates)


def vote(
    session: Session,
    user: Actor,
    item_id: int,
    *,
    outcome: str,
    amount: Decimal | str | None = None,
    note: str | None = None,
) -> ReviewItem:
    _need(user, "expert")
    item = get_item(session, user, item_id)
    _state(item, "cross_review")
    v = session.scalars(
        select(CrossVote).where(CrossVote.item_id == item.id, CrossVote.expert_id == user.id)
    ).first()
    if v is None:
        raise NotFound(f"复核事项 {item_id} 不存在")
    if v.outcome is not None:
        raise Conflict("您已对该事项投票")
    f = _check_decision(item, outcome, amount, None)
    v.outcome, v.amount_fen, v.note, v.voted_at = outcome, f, note, utcnow()
    session.flush()
    _log(session, user, "cross_vote", item, outcome=outcome, amount=str(yuan(f)))
    votes = session.scalars(select(CrossVote).where(CrossVote.item_id == item.id)).all()
    cast = [x for x in votes if x.outcome is not None]
    tally = Counter(x.outcome for x in cast if x.outcome is not None)
    top, count = tally.most_common(1)[0]
    if count * 2 > len(votes):
        amounts = sorted(x.amount_fen or 0 for x in cast if x.outcome == top)
        amount_f = amounts[(len(amounts) - 1) // 2]  # lower median of the majority's amounts
        _finalise(item, top, amount_f, None, None, f"交叉互评多数意见 ({count}/{len(votes)})")
        _log(
            session,
            SYSTEM,
            "cross_review_decided",
            item,
            outcome=top,
            amount=str(yuan(amount_f)),
            votes=dict(tally),
        )
    elif len(cast) == len(votes):
        item.state = "second_review"  # no majority: an auditor other than the first decides
        _log(session, SYSTEM, "cross_review_no_majority", item, votes=dict(tally))
    return item


def final_decision(
    session: Session | Connection,
    user: Actor,
    item_id: int,
    *,
    outcome: str,
    amount: Decimal | str | None = None,
    reason: str | None = None,
    note: str | None = None,
    version: int | None = None,
    read: Session | Connection | None = None,
) -> ReviewItem:
    """``read``: as for ``initial_review``."""
    _need(user, "auditor", "admin")
    item = _decidable(session, user, item_id, version, "second_review", read)
    if user.id == item.initial_by:
        raise Forbidden("复审须由初审以外的审核员进行")
    if (
        item.second_reviewer_id is not None
        and user.id != item.second_reviewer_id
        and user.role != "admin"
    ):
        raise Forbidden("该事项已指定其他复审人员")
    f = _check_decision(item, outcome, amount, reason)
    _write_decision(session, item, _final_values(outcome, f, user.id, reason, note))
    _log(session, user, "final_decision", item, outcome=outcome, amount=str(yuan(f)), reason=reason)
    return item


# ---------------------------------------------------------------- money and quality
def decided_findings(session: Session, *, medins_code: str | None = None) -> list[dict[str, Any]]:
    """Finally decided deductions as finding rows (``setl_id, vola_amt, detail``), in yuan."""
    q = select(
        ReviewItem.setl_id,
        ReviewItem.medins_code,
        ReviewItem.jr_id,
        ReviewItem.final_amount_fen,
        ReviewItem.detail,
    ).where(
        ReviewItem.state == "final",
        ReviewItem.final_outcome.in_(DEDUCTED),
        ReviewItem.final_amount_fen > 0,
    )
    if medins_code:
        q = q.where(ReviewItem.medins_code == medins_code)
    return [
        {
            "setl_id": r.setl_id,
            "medins_code": r.medins_code,
            "jr_id": r.jr_id,
            "vola_amt": yuan(r.final_amount_fen),
            "detail": r.detail,
        }
        for r in session.execute(q.order_by(ReviewItem.id))
    ]


def rule_quality(
    session: Session, policy: WorkflowPolicy, *, period: str | None = None
) -> list[dict[str, Any]]:
    """Per rule: findings, final decisions, confirmation rate, confirmed amount; low rates flagged."""
    q = (
        select(
            ReviewItem.rule_id,
            func.min(ReviewItem.rule_name).label("rule_name"),
            func.count().label("findings"),
            func.sum(_case(ReviewItem.state == "final")).label("reviewed"),
            func.sum(
                _case(and_(ReviewItem.state == "final", ReviewItem.final_outcome.in_(DEDUCTED)))
            ).label("confirmed"),
            func.sum(
                _case(and_(ReviewItem.state == "final", ReviewItem.final_outcome == "dismissed"))
            ).label("dismissed"),
            func.coalesce(func.sum(ReviewItem.final_amount_fen), 0).label("confirmed_fen"),
            func.sum(ReviewItem.vola_amt_fen).label("flagged_fen"),
        )
        .group_by(ReviewItem.rule_id)
        .order_by(ReviewItem.rule_id)
    )
    if period:
        start = dt.datetime.strptime(period + "-01", "%Y-%m-%d")
        end = (start + dt.timedelta(days=32)).replace(day=1)
        q = q.where(ReviewItem.created_at >= start, ReviewItem.created_at < end)
    out = []
    for r in session.execute(q):
        reviewed = int(r.reviewed or 0)
        rate = (int(r.confirmed or 0) / reviewed) if reviewed else None
        out.append(
            {
                "rule_id": r.rule_id,
                "rule_name": r.rule_name,
                "findings": int(r.findings),
                "reviewed": reviewed,
                "confirmed": int(r.confirmed or 0),
                "dismissed": int(r.dismissed or 0),
                "confirmation_rate": None if rate is None else round(rate, 4),
                "flagged_amount": str(yuan(int(r.flagged_fen or 0))),
                "confirmed_amount": str(yuan(int(r.confirmed_fen or 0))),
                "needs_revision": rate is not None
                and reviewed >= policy.rule_quality_min_reviewed
                and rate < policy.rule_quality_threshold,
            }
        )
    return out


def _case(cond: Any) -> Any:
    from sqlalchemy import case

    return case((cond, 1), else_=0)
