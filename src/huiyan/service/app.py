"""The FastAPI application: ``create_app(settings)``.

State (users, reviews, appeals, audit log) lives in the workflow database; case data is read
from the published snapshot of the analytic store (see ``snapshot``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import yaml
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from huiyan.model.domain import SETTLED_STAGE
from huiyan.review import workflow
from huiyan.review.config import WorkflowPolicy, default_policy
from huiyan.review.db import Setting, make_engine, session_factory
from huiyan.review.migrate import upgrade
from huiyan.service.auth import TokenCache
from huiyan.service.decisions import CommitFailed, DecisionWriter
from huiyan.service.settings import Settings
from huiyan.service.snapshot import SnapshotStore

log = logging.getLogger(__name__)
API = "/api/v1"

_STATUS = {
    workflow.NotFound: 404,
    workflow.Forbidden: 403,
    workflow.Conflict: 409,
    workflow.Invalid: 422,
}


def load_policy(settings: Settings) -> WorkflowPolicy:
    if settings.policy_file is None:
        return default_policy()
    data = yaml.safe_load(settings.policy_file.read_text("utf-8")) or {}
    return default_policy().model_copy(
        update=WorkflowPolicy.model_validate(data).model_dump(exclude_unset=True)
    )


POLICY_KEY = "policy"


def refresh_policy(app: FastAPI) -> WorkflowPolicy:
    """The packaged/file policy with the admin's changes (``app_setting`` row ``policy``), so
    every worker process applies a change (within one poll interval)."""
    state = app.state
    with state.read_session() as s:
        row = s.get(Setting, POLICY_KEY)
        overrides = json.loads(row.value) if row is not None else {}
    state.policy = state.base_policy.model_copy(update=overrides)
    return state.policy


def _pseudonym_key(app: FastAPI) -> str:
    """A per-installation key for ``psn_no`` pseudonyms, shared by every worker (used until a
    snapshot carries the store's own key, ``report.safe``'s ``privacy_key``)."""
    with app.state.write_session() as s:
        row = s.get(Setting, "pseudonym_key")
        if row is None:
            s.add(Setting(key="pseudonym_key", value=secrets.token_hex(32)))
            try:
                s.commit()
            except IntegrityError:
                s.rollback()
            row = s.get(Setting, "pseudonym_key")
        assert row is not None
        return row.value


def sync_findings(app: FastAPI) -> workflow.ImportResult | None:
    """Publish the store if it changed, then open review items for new findings."""
    state = app.state
    switched = state.store.refresh()
    snap = state.store.snapshot
    if switched and snap is not None:
        # The dashboard reads the same published snapshot (and drops its cached reader).
        state.store_path = snap.path
        state.web_reader = None
        if state.store.has("privacy_key"):
            # The store's key: one person gets the same pseudonym here as in CLI exports.
            state.pseudonym_key = str(
                state.store.query("select secret from privacy_key limit 1")[0]["secret"]
            )
    if snap is None or not state.store.has("finding"):
        return None
    if not switched and getattr(state, "synced_snapshot", None) == snap.name:
        return None
    rows = state.store.query(
        "select "
        + ", ".join(workflow.FINDING_COLUMNS)
        + f" from finding where stage = '{SETTLED_STAGE}' order by jr_id"
    )
    with state.write_session() as s:
        result = workflow.import_findings(s, rows, state.policy, snapshot=snap.name)
        s.commit()
    state.synced_snapshot = snap.name
    return result


def expire_appeals(app: FastAPI) -> int:
    """Close items whose appeal deadline (by the service's clock) has passed: the initial
    decision becomes final. Run by the background poll and lazily when such an item is read."""
    state = app.state
    with state.write_session() as s:
        n = workflow.close_expired(s, today=state.today())
        s.commit()
    return n


def poll_once(app: FastAPI) -> None:
    """One round of the background task: policy, new snapshot, appeal deadlines."""
    refresh_policy(app)
    sync_findings(app)
    expire_appeals(app)


def _poll(app: FastAPI, stop: threading.Event) -> None:
    while not stop.wait(app.state.settings.snapshot_poll_seconds):
        try:
            poll_once(app)
        except Exception:  # keep serving the last snapshot; the next poll retries
            log.exception("background poll failed")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        poller = None
        if settings.snapshot_poll_seconds > 0:
            poller = threading.Thread(target=_poll, args=(app, stop), daemon=True)
            poller.start()
        try:
            yield
        finally:
            stop.set()
            if app.state.decision_writer is not None:
                app.state.decision_writer.close()
            app.state.store.close()
            app.state.engine.dispose()

    app = FastAPI(
        title="慧眼 huiyan 服务",
        description="人工复核 → 医院申诉 → 复审/交叉互评 → 终审 → 扣款 (review workflow API)",
        version="1",
        lifespan=lifespan,
        openapi_url=f"{API}/openapi.json",
        docs_url=f"{API}/docs",
        redoc_url=None,
    )
    engine = make_engine(settings.state)
    if settings.migrate:
        upgrade(engine)
    app.state.settings = settings
    app.state.engine = engine
    app.state.read_session = session_factory(engine)
    app.state.write_session = session_factory(engine, write=True)
    # Where a reviewer's decision runs. SQLite: on the event loop. Its statements never wait
    # for I/O (WAL, no sync at commit), so the write lock is held for a few hundred
    # microseconds of CPU; from the thread pool the lock holder waited for the GIL behind the
    # loop at every statement and every writer of both workers queued behind it. PostgreSQL:
    # in the thread pool, as the commit waits for the WAL flush (milliseconds) that would
    # stall every request of the worker.
    app.state.writes_on_loop = engine.dialect.name == "sqlite"
    # PostgreSQL: decisions are group-committed by the worker's one writer (see ``decisions``).
    app.state.decision_writer = None if app.state.writes_on_loop else DecisionWriter(engine)
    app.state.base_policy = load_policy(settings)
    refresh_policy(app)
    app.state.token_cache = TokenCache(settings.token_cache_seconds)
    # The service's clock for appeal deadlines (tests move it).
    app.state.today = dt.date.today
    app.state.store = SnapshotStore(settings.db, settings.snapshots())
    app.state.store_path = None
    app.state.pseudonym_key = _pseudonym_key(app)
    sync_findings(app)

    for exc_type, code in _STATUS.items():

        def handler(_req: Request, exc: Exception, code: int = code) -> JSONResponse:
            return JSONResponse({"detail": str(exc)}, status_code=code)

        app.add_exception_handler(exc_type, handler)

    def stale(_req: Request, _exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": "该事项已被他人修改, 请刷新后重试"}, status_code=409)

    app.add_exception_handler(StaleDataError, stale)

    def not_saved(_req: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    app.add_exception_handler(CommitFailed, not_saved)

    from huiyan.service.api import admin, appeals, auth, outputs, reviews

    # The real-time endpoints first: routes are matched in order, and they are the ones
    # called hundreds of times a second.
    _mount_realtime(app)
    for module in (auth, reviews, appeals, admin, outputs):
        app.include_router(module.router, prefix=API)

    @app.get(f"{API}/health", tags=["meta"])
    def health() -> dict[str, str | None]:
        snap = app.state.store.snapshot
        with app.state.read_session() as s:
            s.execute(select(1))
        return {"status": "ok", "snapshot": snap.name if snap else None}

    _mount_web(app)
    return app


def _mount_web(app: FastAPI) -> None:
    """The dashboard (``service.web``: a ``router`` reading ``app.state.store_path`` and
    ``app.state.web_viewer``), when installed."""
    import importlib
    import importlib.util

    if importlib.util.find_spec("huiyan.service.web") is not None:
        web = importlib.import_module("huiyan.service.web")
        app.state.web_viewer = _web_viewer
        app.include_router(web.router)


def _mount_realtime(app: FastAPI) -> None:
    """The real-time endpoints (``service.realtime.register``), when installed."""
    import importlib
    import importlib.util

    if importlib.util.find_spec("huiyan.service.realtime") is not None:
        rt = importlib.import_module("huiyan.service.realtime")
        register = getattr(rt, "register", None)
        if register is not None:
            register(app)


def _web_viewer(request: Request):  # noqa: ANN202
    """The signed-in user (session cookie or bearer token) as the dashboard's ``Viewer``."""
    from huiyan.service.auth import SESSION_COOKIE, hash_secret, resolve
    from huiyan.service.web import Viewer

    header = request.headers.get("authorization", "")
    secret = header[7:].strip() if header.lower().startswith("bearer ") else None
    secret = secret or request.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    state = request.app.state
    p = state.token_cache.get(hash_secret(secret))
    if p is None:
        with state.read_session() as s:
            p = resolve(s, secret, state.token_cache)
    if p is None:
        return None
    return Viewer.from_principal(p)
