"""What settlement deducts when a review workflow runs: the final decisions only.

``huiyan settle --state URL`` passes ``decided_table(URL)`` to settlement: confirmed and
partially confirmed amounts of items in 终审, never an undecided 可疑 finding (nor an
auto-confirmed 明确违规 one still open to appeal).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
from sqlalchemy.exc import SQLAlchemyError

from huiyan.errors import InputError
from huiyan.review.db import make_engine, session_factory
from huiyan.review.workflow import close_expired, decided_findings


def decided_table(state: str, *, today: dt.date | None = None) -> pa.Table:
    """``setl_id, vola_amt, detail`` of every finally decided deduction in the workflow database.

    Appeal deadlines passed by ``today`` take effect first (the initial decision becomes
    final), so settlement never depends on the service having run its periodic check."""
    if "://" not in state and not Path(state).is_file():
        raise InputError(f"{state}: 复核工作库不存在 (review workflow database not found)")
    engine = make_engine(state)
    try:
        with session_factory(engine, write=True)() as s:
            close_expired(s, today=today)
            s.commit()
            rows = decided_findings(s)
    except SQLAlchemyError as exc:
        raise InputError(f"{state}: 无法读取复核工作库: {exc.__class__.__name__}") from None
    finally:
        engine.dispose()
    return pa.table(
        {
            "setl_id": pa.array([r["setl_id"] for r in rows], pa.string()),
            "vola_amt": pa.array([r["vola_amt"] for r in rows], pa.decimal128(16, 2)),
            "detail": pa.array([r["detail"] for r in rows], pa.string()),
        }
    )
