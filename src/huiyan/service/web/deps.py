"""Who is looking and at which store: the two things every page depends on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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

    @property
    def scope(self) -> str | None:
        """The institution this viewer is limited to (``None``: the whole region)."""
        return self.medins_code if self.role == HOSPITAL else None

    def may_see(self, medins_code: str | None) -> bool:
        return self.scope is None or medins_code == self.scope


def get_viewer(request: Request) -> Viewer:
    """The viewer set by the app's authentication (``app.state.web_viewer``), else 401."""
    resolve = getattr(request.app.state, "web_viewer", None)
    if resolve is None:
        raise HTTPException(status_code=401, detail="未登录")
    viewer = resolve(request)
    if viewer is None:
        raise HTTPException(status_code=401, detail="未登录")
    return viewer


def get_reader(request: Request) -> Reader:
    """The app's store reader, created on first use from ``app.state.store_path``."""
    state = request.app.state
    reader = getattr(state, "web_reader", None)
    if reader is None:
        path = getattr(state, "store_path", None)
        if path is None:
            raise HTTPException(status_code=503, detail="未配置结果库 (store_path)")
        reader = state.web_reader = Reader(Path(path), method=getattr(state, "method", "DRG"))
    return reader
