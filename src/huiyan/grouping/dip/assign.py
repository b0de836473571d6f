"""The DIP step of a run: the catalog stored (derived from history or a bureau's published one
loaded) and every case matched to its packet (``dip_result``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from huiyan.grouping.dip.catalog import build_catalog
from huiyan.grouping.dip.match import match_cases
from huiyan.grouping.dip.published import load_catalog
from huiyan.model.payment_tables import DIP_CATALOG
from huiyan.model.tables import DIP_RESULT

if TYPE_CHECKING:
    from huiyan.engine import Engine


def group_dip(engine: Engine, config: dict[str, dict[str, Any]]) -> tuple[bool, list[str]]:
    """Store the DIP catalog (built from history, or a bureau's published one loaded) and the
    cases matched to its packets (``dip_result``).

    Returns whether the catalog was derived (``pricing.run.price_all`` then recalibrates its scores) and
    notes for the run summary.
    """
    p = config["payment"]["dip"]
    scheme = config["grouping"]["payment_scheme"]
    weights = [float(w) for w in config["payment"]["history"]["year_weights"]]
    notes = []
    if p["catalog_file"]:
        catalog = load_catalog(p["catalog_file"], name=str(p["catalog"]))
        notes.append(f"DIP目录: 已加载发布目录 {p['catalog_file']}")
    else:
        built = build_catalog(engine, p, scheme=scheme, year_weights=weights)
        catalog = engine.to_arrow(built)
    engine.drop_stale(DIP_CATALOG.name)
    engine.write(DIP_CATALOG.name, catalog, mode="replace")
    matched, unmatched = match_cases(engine, engine.table(DIP_CATALOG.name), p, scheme=scheme)
    engine.write(DIP_RESULT.name, matched.order_by("setl_id"), mode="replace")
    n_unmatched = engine.to_arrow(unmatched.aggregate(n=unmatched.count())).column("n")[0]
    if n_unmatched.as_py():
        notes.append(f"DIP: {n_unmatched.as_py()} 例未匹配到病种, 按项目付费")
    return not p["catalog_file"], notes
