"""The ingest checks and reason texts, read from ``data/checks.yaml`` and ``data/reasons.yaml``."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml


@cache
def checks() -> dict[str, Any]:
    text = resources.files("huiyan.ingest").joinpath("data/checks.yaml").read_text("utf-8")
    return yaml.safe_load(text)


@cache
def reasons() -> dict[str, dict[str, str]]:
    text = resources.files("huiyan.ingest").joinpath("data/reasons.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def reason_text(
    code: str, *, field: str = "", field_en: str = "", detail: str = "", detail_en: str = ""
) -> tuple[str, str]:
    """Chinese and English reason for quarantine reason ``code``: ``field``/``detail`` go into
    the Chinese text, ``field_en``/``detail_en`` (default: the same) into the English one."""
    r = reasons()[code]
    return (
        r["zh"].format(field=field, detail=detail),
        r["en"].format(field=field_en or field, detail=detail_en or detail),
    )
