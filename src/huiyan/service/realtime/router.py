"""POST /api/v1/3101, /3102, /3103 and /group; every error in the 3101 error shape, never a 500."""

from __future__ import annotations

import json
import logging
import time
from collections import OrderedDict
from typing import Any

import pyarrow as pa
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from huiyan.review import feedback
from huiyan.service.auth import Principal
from huiyan.service.deps import CurrentUser
from huiyan.service.realtime.mapping import (
    MessageError,
    Problem,
    parse,
    read,
    to_arrow,
    unknown_codes,
)

log = logging.getLogger(__name__)
router = APIRouter(tags=["realtime"])
MAX_BODY = 2_000_000
# About 100 bytes a warning: the issued-warnings memory of a worker stays under ~30 MB.
ISSUED_CAPACITY = 200_000


def error(problems: list[Problem], status: int) -> JSONResponse:
    return JSONResponse(
        {
            "infcode": -1,
            "err_msg": "; ".join(f"{p.path}: {p.message}" for p in problems[:20]),
            "errors": [{"path": p.path, "msg": p.message} for p in problems],
            "result": [],
        },
        status_code=status,
    )


async def _body(request: Request) -> Any:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise MessageError([Problem("$", f"请求体超过 {MAX_BODY} 字节")], status=413)
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise MessageError([Problem("$", "请求体不是有效的 JSON")]) from None


def _own(user: Principal, medins_codes: list[str]) -> None:
    if user.role == "hospital":
        other = sorted({c for c in medins_codes if c != user.medins_code})
        if other:
            raise MessageError(
                [
                    Problem(
                        "fsi_encounter_dtos.medins_id",
                        f"无权提交其他机构的就诊: {', '.join(other)}",
                    )
                ],
                status=403,
            )
    elif user.role not in ("admin", "auditor"):
        raise MessageError([Problem("$", "当前角色无权调用实时审核接口")], status=403)


def _result(findings: pa.Table, by_setl: dict[str, Any], task_id: str) -> list[dict[str, Any]]:
    out = []
    for f in findings.to_pylist():
        enc = by_setl[f["setl_id"]]
        lines = [u for u in (f["detail"] or "").split(",") if u]
        out.append(
            {
                "jr_id": f["jr_id"],
                "rule_id": f["rule_id"],
                "rule_name": f["rule_name"],
                "vola_cont": f["vola_cont"],
                "patn_id": enc.psn_no,
                "mdtrt_id": enc.mdtrt_id,
                "setl_id": f["setl_id"],
                "vola_amt": float(f["vola_amt"]) if f["vola_amt"] is not None else 0.0,
                "vola_amt_stas": "1",
                "sev_deg": f["sev_deg"],
                "vola_evid": f["vola_evid"],
                "vola_bhvr_type": f["vola_bhvr_type"],
                "task_id": task_id,
                "judge_result_detail_dtos": [
                    {
                        "jrd_id": f"{f['jr_id']}-{i}",
                        "patn_id": enc.psn_no,
                        "mdtrt_id": enc.mdtrt_id,
                        "rx_id": unit,
                        "vola_item_type": "1",
                        "vola_amt": None,
                    }
                    for i, unit in enumerate(lines, start=1)
                ],
            }
        )
    return out


async def _audit(request: Request, user: Principal) -> JSONResponse:
    try:
        body = await _body(request)
        # The fast path's tables come with the request (else built here, where they were).
        req = read(body)
        _own(user, [e.medins_code for e in req.encounters])
        kb = request.app.state.realtime
        unknown = unknown_codes(req.encounters, kb.current().codes, req.arrow)
        if unknown:
            raise MessageError(unknown, status=422)
        tables = req.arrow if req.arrow is not None else to_arrow(req.encounters)
        findings = await kb.batcher.submit(tables)
    except MessageError as exc:
        return error(exc.problems, exc.status)
    except Exception:
        log.exception("realtime audit failed")
        return error([Problem("$", "审核服务内部错误, 请稍后重试")], 503)
    if req.rule_ids:
        keep = pa.array([r in set(req.rule_ids) for r in findings.column("rule_id").to_pylist()])
        findings = findings.filter(keep)
    task_id = f"T{time.time_ns()}"
    by_setl = {e.setl_id: e for e in req.encounters}
    issued = _issued(request)
    for f in findings.select(["jr_id", "rule_id", "setl_id", "medins_code"]).to_pylist():
        issued.add(f["jr_id"], f)
    return JSONResponse(
        {"infcode": 0, "err_msg": "", "result": _result(findings, by_setl, task_id)}
    )


class IssuedWarnings:
    """The warnings this worker answered lately (``jr_id`` -> rule, stay, institution), so a
    3103 answer is tied to what was really issued. Bounded: a long-running service forgets the
    oldest; an answer to a forgotten (or another worker's) warning falls back to the rule and
    stay the message names, and a hospital may still answer only for its own institution."""

    def __init__(self, capacity: int = ISSUED_CAPACITY) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def add(self, jr_id: str, warning: dict[str, Any]) -> None:
        self._items[jr_id] = warning
        self._items.move_to_end(jr_id)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def get(self, jr_id: Any) -> dict[str, Any] | None:
        return self._items.get(jr_id) if isinstance(jr_id, str) else None

    def __len__(self) -> int:
        return len(self._items)


def _issued(request: Request) -> IssuedWarnings:
    state = request.app.state
    if getattr(state, "realtime_issued", None) is None:
        state.realtime_issued = IssuedWarnings()
    return state.realtime_issued


@router.post("/3101", summary="事前事中分析服务 (3101)")
async def audit_3101(request: Request, user: CurrentUser) -> JSONResponse:
    return await _audit(request, user)


@router.post("/3102", summary="明细审核 (3102)")
async def audit_3102(request: Request, user: CurrentUser) -> JSONResponse:
    return await _audit(request, user)


@router.post("/3103", summary="处理结果反馈 (3103)")
async def feedback_3103(request: Request, user: CurrentUser) -> JSONResponse:
    try:
        body = await _body(request)
        data = body.get("data", body) if isinstance(body, dict) else None
        warns = data.get("warns") if isinstance(data, dict) else None
        if not isinstance(data, dict) or not isinstance(warns, list) or not warns:
            raise MessageError([Problem("data.warns", "缺少必填字段(反馈数组)")])
        issued = _issued(request)
        answers: list[feedback.Answer] = []
        problems = []
        for i, w in enumerate(warns):
            p = f"data.warns[{i}]"
            if not isinstance(w, dict):
                problems.append(Problem(p, "应为对象"))
                continue
            jr = w.get("warn_rslt_id")
            way = str(w.get("dspo_way", ""))
            if not isinstance(jr, str) or not jr:
                problems.append(Problem(f"{p}.warn_rslt_id", "缺少必填字段"))
            if way not in ("1", "2"):
                problems.append(Problem(f"{p}.dspo_way", "应为 1(继续执行) 或 2(返回修改)"))
            if way == "1" and not str(w.get("dspo_way_rea") or "").strip():
                problems.append(Problem(f"{p}.dspo_way_rea", "继续执行须填写理由"))
            known = issued.get(jr) or {}
            rule_id = known.get("rule_id") or w.get("rule_id")
            medins = known.get("medins_code") or w.get("medins_code") or user.medins_code
            if user.role == "hospital" and medins != user.medins_code:
                raise MessageError([Problem(f"{p}.warn_rslt_id", "无权反馈其他机构的提醒")], 403)
            answers.append(
                feedback.Answer(
                    warn_rslt_id=str(jr),
                    rule_id=rule_id,
                    setl_id=known.get("setl_id") or w.get("mdtrt_id"),
                    medins_code=medins,
                    dspo_way=way,
                    dspo_way_rea=w.get("dspo_way_rea"),
                    warn_type=str(data.get("warn_type", "")),
                )
            )
        if problems:
            raise MessageError(problems)
        repeated = await run_in_threadpool(_record, request, answers, user.username)
    except MessageError as exc:
        return error(exc.problems, exc.status)
    return JSONResponse(
        {
            "infcode": 0,
            "err_msg": "",
            "result": [
                {
                    "warn_rslt_id": a.warn_rslt_id,
                    "repeated": again,
                    "text": f"同一就诊对规则 {a.rule_id} 再次选择继续执行, 已报告稽核人员"
                    if again
                    else "已记录",
                }
                for a, again in zip(answers, repeated, strict=True)
            ],
        }
    )


def _record(request: Request, answers: list[feedback.Answer], username: str) -> list[bool]:
    with request.app.state.write_session() as session:
        repeated = feedback.record(session, answers, username=username)
        session.commit()
    return repeated


@router.get("/3103", summary="医生对实时提醒的处理结果 (稽核人员查看)")
async def feedback_list(request: Request, user: CurrentUser) -> JSONResponse:
    if user.role not in ("admin", "auditor", "expert", "hospital"):
        return error([Problem("$", "当前角色无权查看")], 403)
    own = user.medins_code if user.role == "hospital" else None

    def read() -> list[dict[str, Any]]:
        with request.app.state.read_session() as session:
            return feedback.listing(session, own)

    rows = await run_in_threadpool(read)
    return JSONResponse({"infcode": 0, "err_msg": "", "result": rows})


@router.post("/group", summary="预分组 (DRG/DIP)")
async def pre_group(request: Request, user: CurrentUser) -> JSONResponse:
    from huiyan.service.realtime.pregroup import pregroup, settings

    try:
        body = await _body(request)
        req = parse(body)
        _own(user, [e.medins_code for e in req.encounters])
        loaded = request.app.state.realtime.current()
        scheme, mode, checked = settings(loaded.config)
        result = [
            pregroup(e, scheme, loaded.tables, mode=mode, checked=checked) for e in req.encounters
        ]
    except MessageError as exc:
        return error(exc.problems, exc.status)
    except Exception:
        log.exception("pre-grouping failed")
        return error([Problem("$", "预分组服务内部错误, 请稍后重试")], 503)
    return JSONResponse({"infcode": 0, "err_msg": "", "result": result})
