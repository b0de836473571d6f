"""Tables of the workflow database (SQLite file by default, PostgreSQL in production).

Money is stored in integer fen: exact on every backend (SQLite has no decimal type).
Times are naive UTC.
"""

from __future__ import annotations

import datetime as dt
import fcntl
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

DEFAULT_STATE = "huiyan-state.sqlite"
ROLES = ("admin", "auditor", "expert", "hospital", "viewer")
ROLE_LABELS = {
    "admin": "管理员",
    "auditor": "审核员",
    "expert": "专家",
    "hospital": "医院医保办",
    "viewer": "领导",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    # hospital users act for this institution; experts come from it (never review it)
    medins_code: Mapped[str | None] = mapped_column(String(32), index=True)
    can_see_personal: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Token(Base):
    """A bearer token or a browser session; only the sha256 of the secret is stored."""

    __tablename__ = "auth_token"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # bearer | session
    csrf: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class LoginAttempt(Base):
    __tablename__ = "login_attempt"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    ok: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(64))  # the client's address, when known
    __table_args__ = (
        Index("ix_login_attempt_user_at", "username", "at"),
        Index("ix_login_attempt_ip_at", "ip", "at"),
    )


class ReviewItem(Base):
    """One finding under review. The finding's columns are copied at import, so the
    workflow never needs the analytic store to list, decide or settle."""

    __tablename__ = "review_item"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jr_id: Mapped[str] = mapped_column(String(64), unique=True)
    setl_id: Mapped[str] = mapped_column(String(64), index=True)
    mdtrt_id: Mapped[str | None] = mapped_column(String(64))
    psn_no: Mapped[str | None] = mapped_column(String(64))
    medins_code: Mapped[str] = mapped_column(String(32))
    rule_id: Mapped[str] = mapped_column(String(32))
    rule_name: Mapped[str] = mapped_column(String(256))
    vola_bhvr_type: Mapped[str] = mapped_column(String(16))
    sev_deg: Mapped[str] = mapped_column(String(4))
    vola_amt_fen: Mapped[int] = mapped_column(BigInteger)
    vola_cont: Mapped[str] = mapped_column(Text)
    vola_evid: Mapped[str] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)
    stage: Mapped[str] = mapped_column(String(8))
    snapshot: Mapped[str | None] = mapped_column(String(64))

    state: Mapped[str] = mapped_column(String(16), default="pending")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    initial_outcome: Mapped[str | None] = mapped_column(String(16))
    initial_amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    initial_reason: Mapped[str | None] = mapped_column(String(8))
    initial_note: Mapped[str | None] = mapped_column(Text)
    initial_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    initial_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    auto_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    notified_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    appeal_deadline: Mapped[dt.date | None] = mapped_column(Date)
    second_reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    final_outcome: Mapped[str | None] = mapped_column(String(16))
    final_amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    final_reason: Mapped[str | None] = mapped_column(String(8))
    final_note: Mapped[str | None] = mapped_column(Text)
    final_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    final_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # Optimistic locking: two reviewers deciding the same item at once cannot both win.
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__: dict[str, Any] = {"version_id_col": version}  # noqa: RUF012
    __table_args__ = (
        Index("ix_review_item_medins_state", "medins_code", "state"),
        Index("ix_review_item_state_id", "state", "id"),
        Index("ix_review_item_rule", "rule_id", "medins_code"),
    )


class Appeal(Base):
    __tablename__ = "appeal"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("review_item.id"), unique=True)
    medins_code: Mapped[str] = mapped_column(String(32), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Attachment(Base):
    __tablename__ = "attachment"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeal.id"), index=True)
    filename: Mapped[str] = mapped_column(String(256))
    content_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class CrossVote(Base):
    """An expert drawn for an item's cross review; ``outcome`` stays empty until they vote."""

    __tablename__ = "cross_vote"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("review_item.id"), index=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    outcome: Mapped[str | None] = mapped_column(String(16))
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text)
    voted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    __table_args__ = (UniqueConstraint("item_id", "expert_id"),)


class RealtimeFeedback(Base):
    """A doctor's answer (3103) to a real-time warning: continue with a reason, or modify.

    ``repeated`` marks a "continue" on a rule already continued for the same stay: the
    pattern auditors look for (a warning overridden again and again)."""

    __tablename__ = "realtime_feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    warn_rslt_id: Mapped[str] = mapped_column(String(64))
    rule_id: Mapped[str | None] = mapped_column(String(32))
    setl_id: Mapped[str | None] = mapped_column(String(64))
    medins_code: Mapped[str | None] = mapped_column(String(32))
    dspo_way: Mapped[str] = mapped_column(String(1))  # 1 继续执行, 2 返回修改
    dspo_way_rea: Mapped[str | None] = mapped_column(Text)
    warn_type: Mapped[str] = mapped_column(String(8), default="")
    username: Mapped[str] = mapped_column(String(64))
    repeated: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    __table_args__ = (Index("ix_realtime_feedback_stay_rule", "medins_code", "setl_id", "rule_id"),)


class Setting(Base):
    """Configuration changed at run time by an admin (each change audit-logged)."""

    __tablename__ = "app_setting"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class AuditEntry(Base):
    """Append-only, hash-chained: ``hash = sha256(prev_hash + canonical entry)``."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(48), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """One row: the chain's last seq and hash. Updating it first serialises appenders."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


def make_engine(url: str, **kw: Any) -> Engine:
    """An engine for ``url``; a plain path or ``sqlite:///file`` gets WAL and a busy timeout."""
    if "://" not in url:
        url = f"sqlite:///{url}"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        # One connection per busy thread of a worker (reads run in parallel under WAL).
        kw.setdefault("pool_size", 20)
        kw.setdefault("max_overflow", 20)
        engine = create_engine(url, **kw)
        lock_path = _sqlite_lock_path(url)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_con: Any, _rec: Any) -> None:
            # Transactions are begun explicitly by the "begin" listener below.
            dbapi_con.isolation_level = None
            cur = dbapi_con.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            if conn.get_execution_options().get("huiyan_write", False):
                # Writers queue on a file lock first: it wakes the next writer the moment the
                # lock is released, where SQLite's own busy handler sleeps in growing steps
                # (up to 100 ms) and lets writers of other worker processes starve.
                if lock_path is not None:
                    fh = open(lock_path, "a+b")  # noqa: SIM115 - held until commit/rollback
                    fcntl.flock(fh, fcntl.LOCK_EX)
                    conn.info["huiyan_lock"] = fh
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.exec_driver_sql("BEGIN")

        def _end(conn: Any, how: str) -> None:
            fh = conn.info.pop("huiyan_lock", None)
            if fh is None:
                return
            # SQLAlchemy fires these events *before* it commits or rolls back. Ending the
            # transaction here first means the next writer, woken by the file lock, finds
            # SQLite's lock free; otherwise its BEGIN IMMEDIATE collides with this COMMIT and
            # SQLite's busy handler sleeps (1 ms, 2 ms, 5 ms ...). SQLAlchemy's own
            # commit/rollback that follows is then a no-op (no transaction is open).
            try:
                getattr(conn.connection.dbapi_connection, how)()
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
                fh.close()

        event.listen(engine, "commit", lambda conn: _end(conn, "commit"))
        event.listen(engine, "rollback", lambda conn: _end(conn, "rollback"))
        return engine
    kw.setdefault("pool_size", 10)
    kw.setdefault("max_overflow", 20)
    kw.setdefault("pool_pre_ping", True)
    return create_engine(url, **kw)


# The row every append to the audit chain updates (``AuditHead``), locked first by the decision
# writer (``service.decisions``) before it locks any item.
LOCK_CHAIN_HEAD = "SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE"


def _sqlite_lock_path(url: str) -> str | None:
    path = url.split(":///", 1)[1].split("?", 1)[0] if ":///" in url else ""
    return f"{path}.writelock" if path and path != ":memory:" else None


def session_factory(engine: Engine, *, write: bool = False) -> sessionmaker:
    """Sessions on ``engine``; ``write=True`` ones take SQLite's write lock when they begin
    (readers stay concurrent under WAL; writers queue instead of failing with "locked")."""
    bind = engine.execution_options(huiyan_write=True) if write else engine
    return sessionmaker(bind, expire_on_commit=False)
