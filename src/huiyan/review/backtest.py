"""Back-testing a new or changed rule against decisions already made (rule quality before go-live).

The rule is run over a past period's store (by the caller: ``huiyan backtest``); its hits are
compared, case by case, with the final decisions of the review workflow on that period:
hits on cases where a finding was confirmed agree with reviewers, hits on cases whose findings
were all dismissed are likely false positives, hits elsewhere are new and unreviewed. For a
changed rule, the confirmed findings of the same rule id that it no longer finds are misses.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from huiyan.review.db import ReviewItem
from huiyan.review.workflow import DEDUCTED, fen, yuan


def compare(session: Session, rule_id: str, hits: list[dict[str, Any]]) -> dict[str, Any]:
    """``hits``: the rule's findings (``setl_id``, ``vola_amt``) on the past store."""
    decided: dict[str, set[str]] = defaultdict(set)
    same_rule_confirmed: dict[str, int] = {}
    rows = session.execute(
        select(
            ReviewItem.setl_id,
            ReviewItem.rule_id,
            ReviewItem.final_outcome,
            ReviewItem.final_amount_fen,
        ).where(ReviewItem.state == "final")
    )
    for setl_id, rid, outcome, amount in rows:
        decided[setl_id].add("confirmed" if outcome in DEDUCTED else "dismissed")
        if rid == rule_id and outcome in DEDUCTED:
            same_rule_confirmed[setl_id] = same_rule_confirmed.get(setl_id, 0) + (amount or 0)
    agree = dismissed = new = 0
    hit_cases: set[str] = set()
    amounts = {"agree": 0, "dismissed": 0, "new": 0}
    for h in hits:
        sid = h["setl_id"]
        hit_cases.add(sid)
        f = fen(h["vola_amt"] or Decimal(0))
        outcomes = decided.get(sid)
        if outcomes and "confirmed" in outcomes:
            agree += 1
            amounts["agree"] += f
        elif outcomes:
            dismissed += 1
            amounts["dismissed"] += f
        else:
            new += 1
            amounts["new"] += f
    judged = agree + dismissed
    missed = sorted(set(same_rule_confirmed) - hit_cases)
    return {
        "rule_id": rule_id,
        "hits": len(hits),
        "on_confirmed_cases": agree,
        "on_dismissed_cases": dismissed,
        "unreviewed": new,
        "precision_on_reviewed": round(agree / judged, 4) if judged else None,
        "amount_on_confirmed": str(yuan(amounts["agree"])),
        "amount_on_dismissed": str(yuan(amounts["dismissed"])),
        "amount_unreviewed": str(yuan(amounts["new"])),
        "previously_confirmed_cases": len(same_rule_confirmed),
        "previously_confirmed_missed": len(missed),
        "missed_setl_ids": missed[:50],
    }
