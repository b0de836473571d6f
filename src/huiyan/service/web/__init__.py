"""The dashboard (看板): server-rendered Chinese pages over the result store.

Jinja2 templates, htmx for partial updates and ECharts for charts; both scripts are vendored
under ``static/vendor`` (no CDN: bureau networks are closed). The app includes ``router``;
it sets ``app.state.store_path`` (the analytic store file) and ``app.state.web_viewer`` (a
callable from the request to the signed-in :class:`Viewer`, or ``None``).
"""

from __future__ import annotations

from fastapi import APIRouter

from huiyan.service.web import review, routes
from huiyan.service.web.deps import Viewer
from huiyan.service.web.reader import Reader

router = APIRouter()
router.include_router(routes.router)
router.include_router(review.router)

__all__ = ["Reader", "Viewer", "router"]
