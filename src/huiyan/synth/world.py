"""The region's catalog and knowledge, built once: what every clean case bills to be clean.

Order matters: surgery items are chosen against huiyan's shipped ``oprn_evidence`` (the
dataset's own rows name those items), then the dataset's knowledge tables are built, merged
over the shipped ones, and every diagnosis the profiles can carry is resolved to the catalog
items that prove it under the merged tables (``evidence.Resolver``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache

import numpy as np

from huiyan.kb.dictionaries import procedures
from huiyan.synth import knowledge
from huiyan.synth.catalog import Catalog, load_catalog
from huiyan.synth.evidence import Resolver
from huiyan.synth.merged import Knowledge, Rows, static_tables
from huiyan.synth.profiles import chemo_secondary, comorbidities, profiles

SURGERY_PRICE = {1: Decimal("1200"), 2: Decimal("3500"), 3: Decimal("8000")}


@dataclass(frozen=True)
class World:
    cat: Catalog
    knowledge: Knowledge
    dataset_tables: Rows
    surgery_item: np.ndarray  # catalog index per profile (-1: not surgical)
    pdx_items: tuple[tuple[int, ...], ...]  # per profile: items proving the principal
    cm_items: tuple[tuple[int, ...], ...]  # per comorbidity: items proving it
    prophylaxis_capped: np.ndarray  # per profile: a procedure_incision row applies
    unresolved: tuple[str, ...]  # codes no catalog item could prove (should be empty)


@cache
def world() -> World:
    cat = load_catalog()
    shipped_only = Knowledge.merge(static_tables())
    resolver = Resolver(cat, shipped_only)
    names = procedures()
    items = []
    for p in profiles():
        if p.kind != "surgical" or not p.oprn:
            items.append(-1)
            continue
        name = names.get(p.oprn, p.oprn)
        price = str(SURGERY_PRICE[p.complexity])
        idx = resolver.surgery_item(p.oprn, name, price, p.complexity)
        if idx < 0:
            idx = cat.add_surgery_item(p.oprn, name, SURGERY_PRICE[p.complexity], p.complexity)
        items.append(idx)
    surgery_item = np.array(items)
    rows = knowledge.tables(cat, surgery_item)
    know = Knowledge.merge(rows)
    resolver = Resolver(cat, know)
    cm_items = tuple(
        tuple(
            resolver.resolve(c["code"], know.dx_groups(c["code"]), [cat[r] for r in c["evidence"]])
        )
        for c in comorbidities()
    )
    pdx_items = []
    for p in profiles():
        pre = [int(surgery_item[p.pid])] if p.kind == "surgical" else []
        if p.kind == "chemo":
            pre = [cat["drug_chemo"], cat["drug_antiemetic"]]
        got = resolver.resolve(p.pdx, know.dx_groups(p.pdx), pre)
        if p.kind == "chemo":
            got = resolver.resolve(chemo_secondary(), know.dx_groups(chemo_secondary()), got)
        if p.oprn:
            got = resolver.resolve(p.oprn, know.oprn_groups(p.oprn), got)
        pdx_items.append(tuple(i for i in got if i not in pre))
    capped = np.array([bool(p.oprn and know.has_incision_row(p.oprn)) for p in profiles()])
    return World(
        cat,
        know,
        rows,
        surgery_item,
        tuple(pdx_items),
        cm_items,
        capped,
        tuple(resolver.unresolved),
    )
