"""Who is looking and at which store: the two things every page depends on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, Request

from huiyan.service.web.reader import Reader

HOSPITAL = "hospital"


@dataclass(frozen=True)
class Viewer:
    """The signed-in user as the pages need it: a hospital user is scoped to its institution."""

    username: str
    role: str
    medins_code: str | None = None
    display_name: str = ""
    csrf: str | None = None  # echoed by the page's forms (session cookies need it)
    personal: bool = False  # may see personal data unmasked (auditors so entitled)

    @classmethod
    def from_principal(cls, p: Any) -> Viewer:
        """The viewer of the service's authenticated principal."""
        return cls(
            username=p.username,
            role=p.role,
            medins_code=p.medins_code,
            csrf=p.csrf,
            personal=bool(p.can_see_personal) and p.role in ("admin", "auditor"),
        )

    @property
    def scope(self) -> str | None:
        """The institution this viewer is limited to (``None``: the whole region)."""
        return self.medins_code if self.role == HOSPITAL else None

    def may_see(self, medins_code: str | None) -> bool:
        return self.scope is None or medins_code == self.scope


def get_viewer(request: Request) -> Viewer:
    """The viewer set by the app's authentication (``app.state.web_viewer``).

    Not signed in: a browser is sent to the login page, anything else gets 401.
    """
    resolve = getattr(request.app.state, "web_viewer", None)
    viewer = resolve(request) if resolve is not None else None
    if viewer is None:
        if "text/html" in request.headers.get("accept", ""):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise HTTPException(
                status_code=303, headers={"Location": f"/login?next={quote(target)}"}
            )
        raise HTTPException(status_code=401, detail="未登录")
    return viewer


EXPERT = "expert"


def get_analyst(request: Request) -> Viewer:
    """The viewer of an analytic page. Experts review the items drawn for them, nothing else:
    they are sent to their review list (other institutions' data is not theirs to browse)."""
    viewer = get_viewer(request)
    if viewer.role == EXPERT:
        raise HTTPException(status_code=303, headers={"Location": "/reviews"})
    return viewer


def get_reader(request: Request) -> Reader:
    """The app's store reader.

    ``app.state.web_reader`` when set (tests, benchmarks); otherwise one reader that follows
    ``app.state.store_path`` (the service's current snapshot) and prepares each new snapshot
    in the background while pages are served from the previous one.
    """
    state = request.app.state
    reader = getattr(state, "web_reader", None)
    if reader is not None:
        return reader
    live = getattr(state, "web_live_reader", None)
    if live is None:
        if getattr(state, "store_path", None) is None:
            raise HTTPException(status_code=503, detail="结果库尚未发布, 请先运行 huiyan run")

        def current() -> Path | None:
            path = getattr(state, "store_path", None)
            return Path(path) if path is not None else None

        live = state.web_live_reader = Reader(
            current, method=getattr(state, "method", "DRG"), background=True
        )
    return live
