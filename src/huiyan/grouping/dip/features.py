"""Per-case DIP features: diagnosis subcategory/category, procedure combination and type."""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import ibis
import pyarrow as pa

from huiyan.kb.schemes import load_scheme
from huiyan.model.domain import principal_diagnoses
from huiyan.model.tables import DISEINFO, OPRNINFO

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.engine import Engine

# Precedence when a case has several procedures: the heaviest type names the case.
PROC_TYPES = ("conservative", "diagnostic", "therapeutic", "surgery")
_RANK = {name: i for i, name in enumerate(PROC_TYPES)}


@cache
def _prefix_types() -> dict[str, str]:
    text = resources.files("huiyan.grouping.dip").joinpath("data/procedure_type.csv")
    with text.open(encoding="utf-8") as f:
        return {row["prefix"]: row["proc_type"] for row in csv.DictReader(f)}


@cache
def _or_codes(scheme: str) -> pa.Table:
    # through the scheme loader: a regional scheme stores its OR list as a delta on its parent
    codes = [c.strip() for c in load_scheme(scheme).code_list("or_procedures")]
    return pa.table({"oprn_oprt_code": sorted({c for c in codes if c})})


def _type_rank(code: ir.StringValue, is_or: ir.BooleanValue) -> ir.IntegerValue:
    """0 conservative … 3 surgery; prefixes of 4 characters (``92.0``) beat chapters (``92``)."""
    prefixes = sorted(_prefix_types().items(), key=lambda kv: -len(kv[0]))
    branches: list[tuple[Any, Any]] = [(is_or, _RANK["surgery"])]
    branches += [(code.startswith(p), _RANK[t]) for p, t in prefixes]
    return ibis.cases(*branches, else_=_RANK["therapeutic"])


def case_features(store: Engine, params: dict[str, Any], *, scheme: str) -> ir.Table:
    """One row per settlement with a principal diagnosis.

    Columns: setl_id, subcat, category, procedures ('+'-joined sorted distinct codes, '' when
    none), proc_type.
    """
    d = store.table(DISEINFO.name)
    principal = principal_diagnoses(d).select(
        "setl_id",
        subcat=d.diag_code.substr(0, int(params["subcategory_length"])),
        category=d.diag_code.substr(0, int(params["category_length"])),
    )
    o = store.table(OPRNINFO.name).select("setl_id", "oprn_oprt_code").distinct()
    or_codes = ibis.memtable(_or_codes(scheme)).mutate(_or=ibis.literal(True))
    o = o.left_join(or_codes, "oprn_oprt_code").drop("oprn_oprt_code_right")
    o = o.mutate(_or=o._or.fill_null(False))
    if params["procedures"] == "or_only":
        o = o.filter(o._or)
    o = o.mutate(_rank=_type_rank(o.oprn_oprt_code, o._or))
    procs = o.group_by("setl_id").aggregate(
        # sorted list joined rather than group_concat(order_by=), which the distributed
        # engine's SQL lacks;
        # NULL when a settlement has no code, as group_concat gives
        procedures=ibis.ifelse(
            o.oprn_oprt_code.count() > 0,
            o.oprn_oprt_code.collect().sort().join("+"),
            ibis.null("string"),
        ),
        _rank=o._rank.max(),
    )
    out = principal.left_join(procs, "setl_id").drop("setl_id_right")
    rank = out._rank.fill_null(0)
    return out.select(
        "setl_id",
        "subcat",
        "category",
        procedures=out.procedures.fill_null(""),
        proc_type=ibis.cases(*[(rank == i, name) for name, i in _RANK.items()]),
    )


def core_key(subcat: ir.StringValue, procedures: ir.StringValue) -> ir.StringValue:
    """The core packet id: ``I21.0`` (conservative) or ``I21.0|36.0600+88.5500``."""
    return ibis.ifelse(procedures == "", subcat, subcat.concat("|", procedures))


def comprehensive_key(category: ir.StringValue, proc_type: ir.StringValue) -> ir.StringValue:
    """The comprehensive packet id: ``I21:surgery``."""
    return category.concat(":", proc_type)
