"""The dataset's own knowledge tables (design.md §3 ``knowledge/``) describing the catalog."""

from __future__ import annotations

import csv
from pathlib import Path

from huiyan.model.tables import (
    DIAG_EXCLUSIVE,
    DIAG_RESTRICTION,
    DX_EVIDENCE,
    EXAM_INDICATION,
    ITEM_BUNDLE,
    ITEM_EXCLUSIVE,
    OPRN_EVIDENCE,
    OUTPATIENT_TREATABLE,
    PROCEDURE_INCISION,
)
from huiyan.synth.catalog import Catalog, atc_of
from huiyan.synth.profiles import comorbidities, outpatient_treatable_prefixes, profiles


def write(folder: Path, cat: Catalog) -> None:
    folder.mkdir(parents=True, exist_ok=True)
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
    _write(folder, DX_EVIDENCE, sorted(set(dx_ev)))
    ox, inc = [], []
    for p in profiles():
        if p.kind == "surgical":
            ox.append((p.oprn, "item", cat.code(f"surgery:{p.oprn}")))
            ox.append((p.oprn, "item", cat.code("anaes")))
            if p.clean_incision:
                inc.append((p.oprn, "I", 24))
    _write(folder, OPRN_EVIDENCE, sorted(set(ox)))
    _write(folder, PROCEDURE_INCISION, sorted(set(inc)))
    _write(
        folder,
        DIAG_RESTRICTION,
        [
            ("N40", "1", "", "", "1"),
            ("N95", "2", "", "", "1"),
            ("O", "2", "12", "55", "1"),
            ("C79", "", "", "", "1"),
        ],
    )
    _write(folder, DIAG_EXCLUSIVE, [("E10", "E11")])
    _write(
        folder,
        ITEM_EXCLUSIVE,
        [("nursing", cat.code(f"nurse_{g}"), "day") for g in (0, 1, 2, 3)]
        + [("ward_bed", cat.code(r), "day") for r in ("bed", "bed_icu")],
    )
    _write(
        folder,
        ITEM_BUNDLE,
        [
            (cat.code("liver_panel"), cat.code(r), 3, "day")
            for r in ("alt", "ast", "tbil", "alb", "dbil")
        ],
    )
    _write(
        folder,
        EXAM_INDICATION,
        [
            ("tumour_markers", cat.code(r), "C|D0|D3|D4|Z51|R97", 2)
            for r in ("tm_cea", "tm_afp", "tm_ca199", "tm_ca724", "tm_nse")
        ],
    )
    _write(folder, OUTPATIENT_TREATABLE, [(p,) for p in outpatient_treatable_prefixes()])


def _write(folder: Path, table, rows) -> None:
    with (folder / f"{table.name}.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(table.columns)
        w.writerows(rows)
