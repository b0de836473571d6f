"""Assign every case to a packet of a catalog (§2.1): exact core match, else comprehensive."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ibis

from huiyan.grouping.dip.features import case_features, comprehensive_key, core_key

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from huiyan.engine import Engine


def match_cases(
    store: Engine, catalog: ir.Table, params: dict[str, Any], *, scheme: str
) -> tuple[ir.Table, ir.Table]:
    """``(dip_result rows, unmatched setl_ids)`` for every case with a principal diagnosis.

    A case whose combination is a core packet gets it; otherwise the comprehensive packet of
    its category and procedure type; a case matching neither (possible with a published
    catalog) is returned in the second table so the caller can report it.
    """
    f = case_features(store, params, scheme=scheme)
    f = f.mutate(
        _ck=core_key(f.subcat, f.procedures), _cp=comprehensive_key(f.category, f.proc_type)
    )
    cat = catalog.select("catalog", "dip_group", "group_type", "score")
    core = cat.filter(cat.group_type == "core").select(
        _ck="dip_group", _c_cat="catalog", _c_score="score"
    )
    comp = cat.filter(cat.group_type != "core").select(
        _cp="dip_group", _p_cat="catalog", _p_type="group_type", _p_score="score"
    )
    j = f.left_join(core, "_ck").drop("_ck_right").left_join(comp, "_cp").drop("_cp_right")
    hit_core = j._c_cat.notnull()
    result = j.select(
        "setl_id",
        catalog=ibis.coalesce(j._c_cat, j._p_cat),
        dip_group=ibis.ifelse(hit_core, j._ck, j._cp),
        group_type=ibis.ifelse(hit_core, "core", j._p_type),
        score=ibis.coalesce(j._c_score, j._p_score),
    )
    matched = result.filter(result.catalog.notnull())
    unmatched = result.filter(result.catalog.isnull()).select("setl_id")
    return matched, unmatched
