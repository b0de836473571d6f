"""Serialisation shared by the routers: review items as JSON, masked for the reader's role."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy import Row

from huiyan.review.db import ReviewItem
from huiyan.review.workflow import OUTCOMES, STATES, yuan
from huiyan.service.auth import Principal
from huiyan.service.masking import mask_row


def sees_personal(user: Principal) -> bool:
    return user.can_see_personal and user.role in ("admin", "auditor")


def item_json(item: ReviewItem | Row[Any], user: Principal, request: Request) -> dict[str, Any]:
    """``item``: the ORM object or a plain row of ``review_item`` (same attribute names)."""
    row = {
        "id": item.id,
        "jr_id": item.jr_id,
        "setl_id": item.setl_id,
        "mdtrt_id": item.mdtrt_id,
        "psn_no": item.psn_no,
        "medins_code": item.medins_code,
        "rule_id": item.rule_id,
        "rule_name": item.rule_name,
        "vola_bhvr_type": item.vola_bhvr_type,
        "sev_deg": item.sev_deg,
        "vola_amt": str(yuan(item.vola_amt_fen)),
        "vola_cont": item.vola_cont,
        "vola_evid": item.vola_evid,
        "stage": item.stage,
        "state": item.state,
        "state_label": STATES[item.state],
        "assignee_id": item.assignee_id,
        "initial_outcome": item.initial_outcome,
        "initial_amount": _y(item.initial_amount_fen),
        "initial_reason": item.initial_reason,
        "initial_note": item.initial_note,
        "auto_confirmed": item.auto_confirmed,
        "appeal_deadline": item.appeal_deadline.isoformat() if item.appeal_deadline else None,
        "final_outcome": item.final_outcome,
        "final_outcome_label": OUTCOMES.get(item.final_outcome or ""),
        "final_amount": _y(item.final_amount_fen),
        "final_reason": item.final_reason,
        "final_note": item.final_note,
        "version": item.version,
    }
    if user.role == "expert":
        # Cross review is blind to the patient.
        row["psn_no"] = None
        row["mdtrt_id"] = None
    return row if sees_personal(user) else mask_row(row, request.app.state.pseudonym_key)


def _y(f: int | None) -> str | None:
    v = yuan(f)
    return None if v is None else str(v)
