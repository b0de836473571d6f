"""Grouper cases built from the store: ``setl_list`` + ``diseinfo`` + ``oprninfo``.

Written as one Ibis expression (runs on every engine): diagnoses ordered principal first
(``model.domain.principal_order``), procedures by ``oprn_srt_no``, length of stay
= discharge date - admission date, at least 1 day.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis
import pyarrow as pa

from huiyan.model import Table
from huiyan.model.domain import principal_order
from huiyan.model.tables import DISEINFO, OPRNINFO, SETL_LIST

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.engine import Engine


def _cols(t: Table, *names: str) -> tuple[str, ...]:
    # Column names come from the model: a rename there fails here at import, not at run time.
    missing = [n for n in names if n not in t]
    if missing:
        raise KeyError(f"model table {t.name} lacks {missing}")
    return names


SETL_ID, GEND, AGE, NWB_AGE, NWB_WT, CATY, ADM, DSCG, WAY = _cols(
    SETL_LIST,
    "setl_id",
    "gend",
    "age",
    "nwb_age_days",
    "nwb_bir_wt",
    "dscg_caty",
    "adm_time",
    "dscg_time",
    "dscg_way",
)
(DIAG_CODE,) = _cols(DISEINFO, "diag_code")  # the principal-first order: model.domain
OPRN_NO, OPRN_CODE = _cols(OPRNINFO, "oprn_srt_no", "oprn_oprt_code")


def _ordered_list(t: ir.Table, code: str, order: list[ir.Value], name: str) -> ir.Table:
    """One row per settlement: its ``code`` values as a list in ``order``.

    A window over the whole settlement rather than ``collect(order_by=)``, which the distributed
    engine's SQL cannot express; both engines keep a window frame's order in the list.
    """
    whole = ibis.window(group_by=t[SETL_ID], order_by=order, rows=(None, None))
    first = ibis.window(group_by=t[SETL_ID], order_by=order)
    rows = t.select(
        t[SETL_ID], _codes=t[code].collect().over(whole), _rn=ibis.row_number().over(first)
    )
    return rows.filter(rows._rn == 0).select(SETL_ID, **{name: rows._codes})


def cases_expr(setl: ir.Table, dise: ir.Table, oprn: ir.Table) -> ir.Table:
    """The case table (``cases.CASE_COLUMNS``, code fields as lists) as an Ibis expression."""
    dx = _ordered_list(dise, DIAG_CODE, principal_order(dise), "diagnoses")
    px = _ordered_list(oprn, OPRN_CODE, [oprn[OPRN_NO]], "procedures")
    los = setl[DSCG].date().delta(setl[ADM].date(), unit="day")
    base = setl.select(
        case_id=setl[SETL_ID],
        gender=setl[GEND],
        age=setl[AGE].cast("int64"),
        age_days=setl[NWB_AGE].cast("int64"),
        birth_weight=setl[NWB_WT].cast("int64"),
        dept=setl[CATY],
        los=ibis.greatest(los, 1).cast("int64"),
        discharge_way=setl[WAY],
    )
    joined = base.left_join(dx, base.case_id == dx[SETL_ID]).drop(SETL_ID)
    joined = joined.left_join(px, joined.case_id == px[SETL_ID]).drop(SETL_ID)
    return joined.order_by("case_id")


def cases_from_store(engine: Engine) -> pa.Table:
    """Every settlement stored on ``engine`` as a case table (Arrow, in this process)."""
    expr = cases_expr(
        engine.table(SETL_LIST.name),
        engine.table(DISEINFO.name),
        engine.table(OPRNINFO.name),
    )
    return engine.to_arrow(expr)
