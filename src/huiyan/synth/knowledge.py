"""The dataset's own knowledge tables (docs/design.md §3 ``knowledge/``) describing the catalog.

Tables that do not depend on the catalog (diagnosis restrictions, exclusive pairs,
outpatient-treatable conditions) are data files in ``data/knowledge/``; the others name the
region's catalog codes and are built here. The audit reads these merged over huiyan's
shipped defaults (``merged.Knowledge``), and so does the generator.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from huiyan.model.tables import (
    DX_EVIDENCE,
    EXAM_INDICATION,
    ITEM_BUNDLE,
    ITEM_EXCLUSIVE,
    OPRN_EVIDENCE,
    PROCEDURE_INCISION,
)
from huiyan.synth.catalog import Catalog, atc_of
from huiyan.synth.merged import Rows, static_tables
from huiyan.synth.profiles import comorbidities, profiles


def tables(cat: Catalog, surgery_item: np.ndarray) -> Rows:
    """Every table the dataset ships, as rows in model column order."""
    dx_ev = []
    for c in comorbidities():
        for role in c["evidence"]:
            code = cat.code(role)
            atc = atc_of(code)
            dx_ev.append(
                (
                    c["code"][:5].rstrip("."),
                    "secondary",
                    "atc" if atc and c.get("atc") else "item",
                    c["atc"] if atc and c.get("atc") else code,
                )
            )
    dx_ev.append(("C34", "secondary", "atc", "L01"))
    ox, inc = [], []
    for p in profiles():
        if p.kind == "surgical":
            ox.append((p.oprn, "item", cat.rows[int(surgery_item[p.pid])]["hilist_code"]))
            ox.append((p.oprn, "item", cat.code("anaes")))
            if p.clean_incision:
                inc.append((p.oprn, "I", 24))
    out: Rows = dict(static_tables())
    out[DX_EVIDENCE.name] = sorted(set(dx_ev))
    out[OPRN_EVIDENCE.name] = sorted(set(ox))
    out[PROCEDURE_INCISION.name] = sorted(set(inc))
    out[ITEM_EXCLUSIVE.name] = [("nursing", cat.code(f"nurse_{g}"), "day") for g in (0, 1, 2, 3)]
    out[ITEM_EXCLUSIVE.name] += [("ward_bed", cat.code(r), "day") for r in ("bed", "bed_icu")]
    out[ITEM_BUNDLE.name] = [
        (cat.code("liver_panel"), cat.code(r), 3, "day")
        for r in ("alt", "ast", "tbil", "alb", "dbil")
    ]
    out[EXAM_INDICATION.name] = [
        ("tumour_markers", cat.code(r), "C|D0|D3|D4|Z51|R97", 2)
        for r in ("tm_cea", "tm_afp", "tm_ca199", "tm_ca724", "tm_nse")
    ]
    return out


def write(folder: Path, rows: Rows) -> None:
    from huiyan.synth.merged import TABLES

    folder.mkdir(parents=True, exist_ok=True)
    for name, data in sorted(rows.items()):
        with (folder / f"{name}.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(TABLES[name].columns)
            w.writerows(data)
