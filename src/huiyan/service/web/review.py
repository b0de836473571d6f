"""Sign-in and the review pages (审核 / 申诉 / 专家互评 / 终审) over the service's workflow.

Every decision goes through :mod:`huiyan.review.workflow` (which enforces roles, states and
what each user may see); these routes only turn forms into those calls and render the result.
Forms post with the session's CSRF token, checked by the service's ``current_user``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huiyan.model import enums, label
from huiyan.review import workflow
from huiyan.review.config import reasons
from huiyan.review.db import Appeal, Attachment, CrossVote, ReviewItem, User
from huiyan.service import auth
from huiyan.service.auth import Principal
from huiyan.service.deps import current_user, get_db
from huiyan.service.web import pages
from huiyan.service.web.deps import Viewer, get_reader
from huiyan.service.web.reader import Reader, StoreMissing
from huiyan.service.web.routes import render, templates
from huiyan.service.web.tables import Col, TableData

router = APIRouter(tags=["dashboard"])

Db = Annotated[Session, Depends(get_db)]
User_ = Annotated[Principal, Depends(current_user)]
ReaderDep = Annotated[Reader, Depends(get_reader)]

QUEUE_PAGE = 50


def _yuan(fen: int | None) -> Decimal | None:
    return workflow.yuan(fen)


def _back(path: str, *, msg: str = "", err: str = "") -> RedirectResponse:
    q = urlencode({k: v for k, v in (("msg", msg), ("err", err)) if v})
    return RedirectResponse(path + (f"?{q}" if q else ""), status_code=303)


def _viewer(p: Principal) -> Viewer:
    return Viewer.from_principal(p)


def _mask(viewer: Viewer, request: Request, row: dict[str, Any]) -> dict[str, Any]:
    if viewer.personal:
        return row
    from huiyan.service.masking import mask_row

    return mask_row(row, request.app.state.pseudonym_key)


# ---------------------------------------------------------------------------- sign-in
@router.get("/login", response_class=HTMLResponse, name="web_login")
def login_page(request: Request, next: str = "/", err: str = "") -> Response:
    return templates.TemplateResponse(
        request,
        "login.html.j2",
        {"page": None, "title": "登录", "viewer": None, "nav": (), "next": next, "err": err},
    )


@router.post("/login", name="web_login_post")
def login_post(
    request: Request,
    db: Db,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    settings = request.app.state.settings
    try:
        # The password is checked in a read session, before the write transaction begins.
        with request.app.state.read_session() as read:
            secret, _token, _user = auth.login(
                db,
                settings,
                username,
                password,
                kind="session",
                client_ip=auth.client_ip(request),
                read=read,
            )
    except (auth.LoginFailed, auth.Throttled) as exc:
        db.commit()  # the failed attempt counts towards throttling
        return templates.TemplateResponse(
            request,
            "login.html.j2",
            {
                "page": None,
                "title": "登录",
                "viewer": None,
                "nav": (),
                "next": next,
                "err": str(exc),
            },
            status_code=401,
        )
    db.commit()
    # Only a local path: never redirect off-site after login.
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    resp = RedirectResponse(target, status_code=303)
    resp.set_cookie(
        auth.SESSION_COOKIE,
        secret,
        httponly=True,
        samesite="strict",
        secure=settings.cookie_secure,
        max_age=int(settings.token_hours * 3600),
    )
    return resp


@router.post("/logout", name="web_logout")
def logout_post(request: Request, db: Db, user: User_) -> Response:
    auth.logout(db, user, request.app.state.token_cache)
    db.commit()
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(auth.SESSION_COOKIE)
    return resp


# ---------------------------------------------------------------------------- queue
QUEUE_FILTERS = ("state", "rule_id", "vola_bhvr_type", "medins_code", "min_amt", "overdue")


def _item_row(i: ReviewItem, names: dict[str, str]) -> dict[str, Any]:
    return {
        "id": i.id,
        "jr_id": i.jr_id,
        "setl_id": i.setl_id,
        "medins_code": i.medins_code,
        "medins_name": names.get(i.medins_code, i.medins_code),
        "rule_id": i.rule_id,
        "rule_name": i.rule_name,
        "cls_name": label("vola_bhvr_type", i.vola_bhvr_type),
        "sev_name": label("sev_deg", i.sev_deg),
        "vola_amt": _yuan(i.vola_amt_fen),
        "vola_cont": i.vola_cont,
        "state": i.state,
        "state_name": workflow.STATES[i.state],
        "deadline": i.appeal_deadline,
        "final": workflow.OUTCOMES.get(i.final_outcome or "", ""),
        "final_amount": _yuan(i.final_amount_fen),
        "auto": "自动确认" if i.auto_confirmed else "",
    }


QUEUE_COLS = (
    Col("id", "编号", "code", link=lambda r: f"/reviews/{r['id']}"),
    Col("state_name", "状态", "code"),
    Col("rule_id", "规则", "code"),
    Col("rule_name", "规则名称"),
    Col("cls_name", "违规行为分类"),
    Col("medins_name", "机构"),
    Col("setl_id", "结算ID", "code"),
    Col("vola_amt", "疑点金额(元)", "money"),
    Col("deadline", "申诉期限", "date"),
    Col("final", "终审结论"),
    Col("final_amount", "扣款(元)", "money"),
    Col("vola_cont", "违规内容"),
)


def _names(reader: Reader) -> dict[str, str]:
    from huiyan.service.web import queries as Q

    try:
        return reader.get(Q.medins_names)
    except StoreMissing:
        return {}


@router.get("/reviews", response_class=HTMLResponse, name="web_reviews")
def queue(request: Request, db: Db, user: User_, reader: ReaderDep) -> Response:
    viewer = _viewer(user)
    p = {k: request.query_params.get(k, "").strip() for k in QUEUE_FILTERS}
    q = workflow.visible(select(ReviewItem), user)
    if p["state"]:
        q = q.where(ReviewItem.state == p["state"])
    if p["rule_id"]:
        q = q.where(ReviewItem.rule_id == p["rule_id"])
    if p["vola_bhvr_type"]:
        q = q.where(ReviewItem.vola_bhvr_type == p["vola_bhvr_type"])
    if p["medins_code"]:
        q = q.where(ReviewItem.medins_code == p["medins_code"])
    if p["min_amt"]:
        try:
            q = q.where(ReviewItem.vola_amt_fen >= workflow.fen(p["min_amt"]))
        except (ArithmeticError, InvalidOperation, ValueError):
            p["min_amt"] = ""
    if p["overdue"]:
        q = q.where(ReviewItem.state == "notified", ReviewItem.appeal_deadline < dt.date.today())
    total = db.scalar(select(func.count()).select_from(q.subquery())) or 0
    everything = bool(request.query_params.get("xlsx"))
    try:
        page_no = max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        page_no = 1
    q = q.order_by(ReviewItem.vola_amt_fen.desc(), ReviewItem.id)
    if not everything:
        q = q.limit(QUEUE_PAGE).offset((page_no - 1) * QUEUE_PAGE)
    names = _names(reader)
    rows = [_mask(viewer, request, _item_row(i, names)) for i in db.scalars(q).all()]
    counts = dict(
        db.execute(
            workflow.visible(
                select(ReviewItem.state, func.count()).group_by(ReviewItem.state), user
            )
        ).all()
    )
    page = pages.Page(
        "reviews.html.j2",
        "审核",
        "reviews",
        ctx={
            "filters": p,
            "total": total,
            "page_no": page_no,
            "pages": max(1, -(-total // QUEUE_PAGE)),
            "query": urlencode({k: v for k, v in p.items() if v}),
            "states": workflow.STATES,
            "counts": counts,
            "classes": enums()["vola_bhvr_type"],
            "institutions": names if viewer.scope is None else {},
            "reasons": reasons(),
            "msg": request.query_params.get("msg", ""),
            "err": request.query_params.get("err", ""),
        },
    )
    title = {"hospital": "本院复核事项", "expert": "待我互评的事项"}.get(user.role, "复核队列")
    page.tables.append(TableData("reviews", title, QUEUE_COLS, rows))
    return render(request, viewer, page)


@router.post("/reviews/bulk", name="web_reviews_bulk")
def bulk(
    db: Db,
    user: User_,
    rule_id: Annotated[str, Form()],
    medins_code: Annotated[str, Form()],
    outcome: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    try:
        ids = workflow.bulk_initial_review(
            db,
            user,
            rule_id=rule_id,
            medins_code=medins_code,
            outcome=outcome,
            reason=reason or None,
        )
        db.commit()
    except workflow.WorkflowError as exc:
        db.rollback()
        return _back("/reviews", err=str(exc))
    return _back("/reviews", msg=f"已批量初审 {len(ids)} 条")


@router.post("/reviews/notify", name="web_reviews_notify")
def notify(
    request: Request, db: Db, user: User_, medins_code: Annotated[str, Form()] = ""
) -> Response:
    try:
        n = workflow.notify(db, user, request.app.state.policy, medins_code=medins_code or None)
        db.commit()
    except workflow.WorkflowError as exc:
        db.rollback()
        return _back("/reviews", err=str(exc))
    return _back("/reviews", msg=f"已通知医院 {n} 条, 申诉期限自今日起算")


# ---------------------------------------------------------------------------- one item
def _load(db: Session, user: Principal, item_id: int) -> ReviewItem:
    try:
        return workflow.get_item(db, user, item_id)
    except workflow.NotFound:
        raise HTTPException(status_code=404, detail=f"复核事项 {item_id} 不存在") from None


@router.get("/reviews/{item_id}", response_class=HTMLResponse, name="web_review")
def item_page(request: Request, item_id: int, db: Db, user: User_, reader: ReaderDep) -> Response:
    viewer = _viewer(user)
    item = _load(db, user, item_id)
    names = _names(reader)
    row = _mask(viewer, request, _item_row(item, names))
    row.update(
        {
            "vola_evid": item.vola_evid,
            "detail": item.detail,
            "initial": workflow.OUTCOMES.get(item.initial_outcome or "", ""),
            "initial_amount": _yuan(item.initial_amount_fen),
            "initial_reason": reasons().get(item.initial_reason or "", ""),
            "initial_note": item.initial_note,
            "final_reason": reasons().get(item.final_reason or "", ""),
            "final_note": item.final_note,
            "version": item.version,
        }
    )
    appeal = db.scalars(select(Appeal).where(Appeal.item_id == item.id)).first()
    atts = (
        db.scalars(select(Attachment).where(Attachment.appeal_id == appeal.id)).all()
        if appeal
        else []
    )
    votes: list[tuple[CrossVote, str]] = [
        (v, u)
        for v, u in db.execute(
            select(CrossVote, User.username)
            .join(User, User.id == CrossVote.expert_id)
            .where(CrossVote.item_id == item.id)
            .order_by(CrossVote.id)
        )
    ]
    my_vote = next((v for v, _u in votes if v.expert_id == user.id), None)
    if user.role == "expert":
        votes = [(v, u) for v, u in votes if v.expert_id == user.id]
    reviewers = (
        db.scalars(
            select(User)
            .where(User.role.in_(("auditor", "admin")), User.active.is_(True))
            .order_by(User.username)
        ).all()
        if user.role in ("auditor", "admin")
        else []
    )
    try:
        page = pages.case_page(
            reader, viewer, item.setl_id, highlight=pages._evidence_keys(item.detail)
        )
    except StoreMissing:
        page = None
    if page is None:
        page = pages.Page("review.html.j2", "", "reviews")
        page.ctx["no_case"] = True
    page.template, page.title, page.nav = "review.html.j2", f"复核事项 {item.id}", "reviews"
    if "s" in page.ctx and user.role == "expert":
        # Cross review is blind to the patient and the record.
        page.ctx["s"] = {**page.ctx["s"], "medcasno": None, "psn_no": None, "mdtrt_id": None}
    page.ctx.update(
        {
            "item": row,
            "raw_state": item.state,
            "appeal": _mask(viewer, request, {"text": appeal.text, "at": appeal.created_at})
            if appeal
            else None,
            "attachments": atts,
            "votes": [
                {
                    "expert": u,
                    "outcome": workflow.OUTCOMES.get(v.outcome or "", "未投票"),
                    "amount": _yuan(v.amount_fen),
                    "note": v.note,
                }
                for v, u in votes
            ],
            "may_vote": user.role == "expert" and my_vote is not None and my_vote.outcome is None,
            "reviewers": [r for r in reviewers if r.id != item.initial_by],
            "initial_by_me": item.initial_by == user.id,
            "outcomes": workflow.OUTCOMES,
            "reasons": reasons(),
            "msg": request.query_params.get("msg", ""),
            "err": request.query_params.get("err", ""),
        }
    )
    return render(request, viewer, page)


def _act(item_id: int, db: Session, fn: Any, ok: str) -> Response:
    path = f"/reviews/{item_id}"
    try:
        fn()
        db.commit()
    except workflow.WorkflowError as exc:
        db.rollback()
        return _back(path, err=str(exc))
    return _back(path, msg=ok)


Opt = Annotated[str, Form()]


@dataclass(frozen=True)
class _Decision:
    """A decision form (initial or final review); empty fields mean "not given"."""

    outcome: str
    amount: str
    reason: str
    note: str
    version: int | None


def _decide(
    step: Callable[..., object],
    item_id: int,
    db: Session,
    user: Principal,
    form: _Decision,
    what: str,
) -> Response:
    return _act(
        item_id,
        db,
        lambda: step(
            db,
            user,
            item_id,
            outcome=form.outcome,
            amount=form.amount or None,
            reason=form.reason or None,
            note=form.note or None,
            version=form.version,
        ),
        f"{what}已保存: {workflow.OUTCOMES.get(form.outcome, form.outcome)}",
    )


@router.post("/reviews/{item_id}/initial", name="web_review_initial")
def initial(
    item_id: int,
    db: Db,
    user: User_,
    outcome: Opt,
    amount: Opt = "",
    reason: Opt = "",
    note: Opt = "",
    version: Annotated[int | None, Form()] = None,
) -> Response:
    form = _Decision(outcome, amount, reason, note, version)
    return _decide(workflow.initial_review, item_id, db, user, form, "初审结论")


@router.post("/reviews/{item_id}/notify", name="web_review_notify")
def notify_one(request: Request, item_id: int, db: Db, user: User_) -> Response:
    item = _load(db, user, item_id)
    return _act(
        item_id,
        db,
        lambda: workflow.notify(db, user, request.app.state.policy, medins_code=item.medins_code),
        "已通知医院",
    )


async def _attach(
    request: Request, db: Session, user: Principal, item_id: int, upload: UploadFile | None
) -> None:
    if upload is None or not upload.filename:
        return
    state = request.app.state
    data = await upload.read(state.policy.attachment_max_bytes + 1)
    workflow.add_attachment(
        db,
        user,
        item_id,
        filename=upload.filename,
        content_type=upload.content_type or "application/octet-stream",
        data=data,
        directory=state.settings.attachment_dir,
        policy=state.policy,
    )


@router.post("/reviews/{item_id}/appeal", name="web_review_appeal")
async def appeal(
    request: Request,
    item_id: int,
    user: User_,
    text: Opt,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    path = f"/reviews/{item_id}"
    with request.app.state.write_session() as db:
        try:
            workflow.appeal(db, user, item_id, text)
            db.flush()
            await _attach(request, db, user, item_id, file)
            db.commit()
        except workflow.WorkflowError as exc:
            db.rollback()
            return _back(path, err=str(exc))
    return _back(path, msg="申诉已提交")


@router.post("/reviews/{item_id}/attachment", name="web_review_attachment")
async def attachment(
    request: Request, item_id: int, user: User_, file: Annotated[UploadFile, File()]
) -> Response:
    path = f"/reviews/{item_id}"
    with request.app.state.write_session() as db:
        try:
            await _attach(request, db, user, item_id, file)
            db.commit()
        except workflow.WorkflowError as exc:
            db.rollback()
            return _back(path, err=str(exc))
    return _back(path, msg="附件已上传")


@router.post("/reviews/{item_id}/accept", name="web_review_accept")
def accept(item_id: int, db: Db, user: User_) -> Response:
    return _act(item_id, db, lambda: workflow.accept(db, user, item_id), "已接受初审结论")


@router.post("/reviews/{item_id}/second-review", name="web_review_second")
def second_review(
    item_id: int, db: Db, user: User_, reviewer_id: Annotated[int, Form()]
) -> Response:
    return _act(
        item_id,
        db,
        lambda: workflow.start_second_review(db, user, item_id, reviewer_id),
        "已转复审",
    )


@router.post("/reviews/{item_id}/cross-review", name="web_review_cross")
def cross_review(
    request: Request, item_id: int, db: Db, user: User_, experts: Annotated[int, Form()] = 3
) -> Response:
    return _act(
        item_id,
        db,
        lambda: workflow.start_cross_review(
            db, user, item_id, request.app.state.policy, experts=experts
        ),
        f"已抽取 {experts} 名专家进行交叉互评",
    )


@router.post("/reviews/{item_id}/vote", name="web_review_vote")
def vote(
    item_id: int, db: Db, user: User_, outcome: Opt, amount: Opt = "", note: Opt = ""
) -> Response:
    return _act(
        item_id,
        db,
        lambda: workflow.vote(
            db, user, item_id, outcome=outcome, amount=amount or None, note=note or None
        ),
        "互评意见已提交",
    )


@router.post("/reviews/{item_id}/final", name="web_review_final")
def final(
    item_id: int,
    db: Db,
    user: User_,
    outcome: Opt,
    amount: Opt = "",
    reason: Opt = "",
    note: Opt = "",
    version: Annotated[int | None, Form()] = None,
) -> Response:
    form = _Decision(outcome, amount, reason, note, version)
    return _decide(workflow.final_decision, item_id, db, user, form, "终审结论")


# ---------------------------------------------------------------------------- settlement
def decided(request: Request, viewer: Viewer, names: dict[str, str]) -> TableData | None:
    """Finally decided deductions per institution (what the next settlement deducts)."""
    factory = getattr(request.app.state, "read_session", None)
    if factory is None:
        return None
    with factory() as s:
        rows = workflow.decided_findings(s, medins_code=viewer.scope)
    per: dict[str, dict[str, Any]] = {}
    for r in rows:
        code = r["medins_code"]
        d = per.setdefault(
            code,
            {
                "medins_code": code,
                "medins_name": names.get(code, code),
                "n": 0,
                "amount": Decimal(0),
            },
        )
        d["n"] += 1
        d["amount"] += Decimal(str(r["vola_amt"]))
    return TableData(
        "decided",
        "复核终审扣款 (下次结算扣减)",
        (
            Col(
                "medins_name",
                "机构",
                link=lambda r: f"/reviews?medins_code={quote(r['medins_code'])}&state=final",
            ),
            Col("n", "终审确认事项", "int"),
            Col("amount", "终审扣款金额(元)", "money"),
        ),
        sorted(per.values(), key=lambda r: r["medins_code"]),
    )


def rule_quality(request: Request) -> TableData | None:
    """Per rule: how many of its findings the reviewers confirmed (规则质量)."""
    factory = getattr(request.app.state, "read_session", None)
    if factory is None:
        return None
    with factory() as s:
        rows = workflow.rule_quality(s, request.app.state.policy)
    for r in rows:
        r["flag"] = "建议修订" if r["needs_revision"] else ""
        r["flagged_amount"] = Decimal(r["flagged_amount"])
        r["confirmed_amount"] = Decimal(r["confirmed_amount"])
    return TableData(
        "rule_quality",
        "规则质量 (复核确认率)",
        (
            Col(
                "rule_id",
                "规则编号",
                "code",
                link=lambda r: f"/reviews?rule_id={quote(r['rule_id'])}",
            ),
            Col("rule_name", "规则名称"),
            Col("findings", "复核事项", "int"),
            Col("reviewed", "已终审", "int"),
            Col("confirmed", "确认", "int"),
            Col("dismissed", "驳回", "int"),
            Col("confirmation_rate", "确认率", "pct"),
            Col("flagged_amount", "疑点金额(元)", "money"),
            Col("confirmed_amount", "确认扣款(元)", "money"),
            Col("flag", "提示"),
        ),
        rows,
        note="确认率低于阈值且已终审事项足够多的规则标为「建议修订」。",
    )
