"""Workflow policy and the coded review reasons: package data files, overridable per bureau."""

from __future__ import annotations

import datetime as dt
from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel


class WorkflowPolicy(BaseModel):
    appeal_working_days: int = 10
    cross_review_experts: int = 3
    auto_confirm_violations: bool = True
    rule_quality_threshold: float = 0.5
    rule_quality_min_reviewed: int = 5
    demote_flagged_rules: bool = False
    attachment_max_bytes: int = 10 * 1024 * 1024
    attachment_types: list[str] = []
    holidays: list[dt.date] = []


def _data(name: str) -> Any:
    return yaml.safe_load(
        resources.files("huiyan.review").joinpath("data", name).read_text("utf-8")
    )


@cache
def default_policy() -> WorkflowPolicy:
    return WorkflowPolicy.model_validate(_data("workflow.yaml"))


@cache
def reasons() -> dict[str, str]:
    return {str(k): str(v) for k, v in _data("reasons.yaml").items()}


def add_working_days(start: dt.date, days: int, holidays: list[dt.date]) -> dt.date:
    """The date ``days`` working days after ``start`` (weekends and holidays skipped)."""
    off = set(holidays)
    d = start
    left = days
    while left > 0:
        d += dt.timedelta(days=1)
        if d.weekday() < 5 and d not in off:
            left -= 1
    return d
