"""The dashboard's routes: HTML pages, their xlsx downloads and the vendored static files."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from huiyan.service.web import pages
from huiyan.service.web.deps import Viewer, get_analyst, get_reader
from huiyan.service.web.reader import Reader, StoreMissing
from huiyan.service.web.tables import fmt, xlsx_bytes

HERE = Path(__file__).parent
STATIC = HERE / "static"

templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters["fmt"] = fmt
# Chart options carry Chinese names: keep them readable in the page source.
templates.env.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "sort_keys": False}
templates.env.globals["ROLE_NAMES"] = {
    "admin": "管理员",
    "auditor": "审核员",
    "bureau": "医保局",
    "expert": "专家",
    "hospital": "医院",
}

router = APIRouter(tags=["dashboard"])

ViewerDep = Annotated[Viewer, Depends(get_analyst)]
ReaderDep = Annotated[Reader, Depends(get_reader)]

NAV = (
    ("overview", "总览", "/"),
    ("institutions", "机构", "/institutions"),
    ("groups", "病组", "/groups"),
    ("findings", "疑点", "/findings"),
    ("reviews", "审核", "/reviews"),
    ("rules", "规则", "/rules"),
    ("settlement", "结算", "/settlement"),
    ("warnings", "预警", "/warnings"),
)


def _config(request: Request) -> dict[str, Any]:
    cfg = getattr(request.app.state, "config", None)
    if cfg is None:
        from huiyan.kb import config as kb_config

        cfg = request.app.state.config = kb_config.load(None)
    return cfg


def render(
    request: Request, viewer: Viewer, page: pages.Page | None, reader: Reader | None = None
) -> Response:
    """The page as HTML, or one of its tables as xlsx when ``?xlsx=<table key>``.

    With ``reader``, a workbook is built once per snapshot, URL and viewer scope (a region's
    whole findings list takes seconds to write).
    """
    if page is None:
        raise HTTPException(status_code=404, detail="未找到或无权查看")
    key = request.query_params.get("xlsx")
    if key:
        table = page.table(key)
        if table is None:
            raise HTTPException(status_code=404, detail=f"没有表 {key}")
        name = f"{page.title}-{table.title}.xlsx".replace("/", "_")
        memo_key = ("xlsx", str(request.url), viewer.scope, viewer.personal)
        data = reader.memo(memo_key, lambda: xlsx_bytes(table)) if reader else xlsx_bytes(table)
        return Response(
            data,
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
        )
    # htmx asks for the part of the page it swaps in (a history restore wants the whole page).
    partial = (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )
    template = page.ctx.get("partial_template") if partial else None
    return templates.TemplateResponse(
        request,
        template or page.template,
        {
            "page": page,
            "viewer": viewer,
            "nav": NAV,
            "partial": bool(partial),
            "xlsx_base": _xlsx_base(request),
        },
    )


def _xlsx_base(request: Request) -> str:
    qs = [(k, v) for k, v in request.query_params.multi_items() if k not in ("xlsx", "page")]
    return (
        request.url.path + "?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in qs + [("xlsx", "")])
    )


def _guard(fn):  # noqa: ANN001, ANN202
    # A store that does not exist yet is a message on the page, not a traceback.
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except StoreMissing as e:
            raise HTTPException(status_code=503, detail=str(e)) from None

    return wrapped


@router.get("/", response_class=HTMLResponse, name="web_overview")
def overview(request: Request, viewer: ViewerDep, reader: ReaderDep) -> Response:
    if viewer.scope:
        page = _guard(pages.institution)(reader, viewer, viewer.scope)
        if page is not None:
            page.nav = "overview"
        return render(request, viewer, page, reader)
    return render(request, viewer, _guard(pages.overview)(reader, viewer), reader)


@router.get("/institutions", response_class=HTMLResponse, name="web_institutions")
def institutions(request: Request, viewer: ViewerDep, reader: ReaderDep) -> Response:
    return render(request, viewer, _guard(pages.institutions)(reader, viewer), reader)


@router.get("/institutions/{code}", response_class=HTMLResponse, name="web_institution")
def institution(request: Request, code: str, viewer: ViewerDep, reader: ReaderDep) -> Response:
    return render(request, viewer, _guard(pages.institution)(reader, viewer, code), reader)


@router.get("/groups", response_class=HTMLResponse, name="web_groups")
def groups(request: Request, viewer: ViewerDep, reader: ReaderDep, grp: str = "") -> Response:
    return render(request, viewer, _guard(pages.groups)(reader, viewer, grp), reader)


@router.get("/findings", response_class=HTMLResponse, name="web_findings")
def findings(request: Request, viewer: ViewerDep, reader: ReaderDep) -> Response:
    params = dict(request.query_params)
    everything = bool(params.get("xlsx"))
    page = _guard(pages.findings)(reader, viewer, params, everything=everything)
    return render(request, viewer, page, reader)


@router.get("/findings/{jr_id}", response_class=HTMLResponse, name="web_finding")
def finding(request: Request, jr_id: str, viewer: ViewerDep, reader: ReaderDep) -> Response:
    return render(request, viewer, _guard(pages.finding_page)(reader, viewer, jr_id), reader)


@router.get("/cases/{setl_id}", response_class=HTMLResponse, name="web_case")
def case(request: Request, setl_id: str, viewer: ViewerDep, reader: ReaderDep) -> Response:
    return render(request, viewer, _guard(pages.case_page)(reader, viewer, setl_id), reader)


@router.get("/rules", response_class=HTMLResponse, name="web_rules")
def rules(request: Request, viewer: ViewerDep, reader: ReaderDep) -> Response:
    page = _guard(pages.rules)(reader, viewer, _config(request))
    from huiyan.service.web.review import rule_quality  # the workflow's view of each rule

    quality = rule_quality(request) if viewer.scope is None else None
    if quality is not None:
        page.tables.append(quality)
    return render(request, viewer, page, reader)


@router.get("/settlement", response_class=HTMLResponse, name="web_settlement")
def settlement(
    request: Request, viewer: ViewerDep, reader: ReaderDep, period: str = "", kind: str = ""
) -> Response:
    page = _guard(pages.settlement)(reader, viewer, period, kind)
    from huiyan.service.web import queries as Q
    from huiyan.service.web.review import decided  # deductions the review workflow decided

    table = decided(request, viewer, _guard(reader.get)(Q.medins_names))
    if table is not None:
        page.tables.insert(0, table)
    return render(request, viewer, page, reader)


@router.get("/settlement/notice", response_class=HTMLResponse, name="web_notice")
def notice(
    request: Request,
    viewer: ViewerDep,
    reader: ReaderDep,
    period: str = "",
    kind: str = "monthly",
    medins_code: str = "",
) -> Response:
    code = viewer.scope or medins_code
    return render(request, viewer, _guard(pages.notice)(reader, viewer, period, kind, code), reader)


@router.get("/warnings", response_class=HTMLResponse, name="web_warnings")
def warnings(request: Request, viewer: ViewerDep, reader: ReaderDep) -> Response:
    return render(request, viewer, _guard(pages.warnings)(reader, viewer), reader)


@router.get("/static/{name:path}", name="web_static")
def static(name: str) -> FileResponse:
    path = (STATIC / name).resolve()
    if not path.is_file() or STATIC.resolve() not in path.parents:
        raise HTTPException(status_code=404)
    media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media, headers={"Cache-Control": "max-age=86400"})
