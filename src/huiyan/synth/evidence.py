"""Which catalog items prove a diagnosis or procedure, read from the merged knowledge.

For every code a clean case carries, each matching ``dx_evidence`` / ``oprn_evidence`` group
needs one net fee line; ``Resolver`` picks as few items as cover all groups (greedy set
cover), preferring items already in the region's catalog. An ATC-prefix evidence is met by a
drug whose national code (``X`` + ATC) starts with it: a representative drug from
``data/evidence_drugs.csv``, given a generated code in the national 23-character format. An
item evidence is the named national service item, described from the catalog huiyan ships.
Items that carry restrictions (sex, age, level, indication, course, exclusive groups,
bundles, exam indications, duplicate-charge partners) are never chosen as evidence, so that
supporting a diagnosis cannot break another rule.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable
from functools import cache
from importlib import resources

from huiyan.kb import restrictions
from huiyan.kb.catalog import shipped_hilist
from huiyan.kb.tablefiles import open_csv_text
from huiyan.synth.catalog import Catalog
from huiyan.synth.merged import Evidence, Knowledge

# National restriction kinds an evidence item may carry: limits the generator respects.
HARMLESS_KINDS = {"frequency", "period_frequency", "care_setting"}
ITEM_PRICE = {"03": "120.00", "04": "30.00", "05": "80.00", "06": "800.00", "07": "30.00"}
_RESTRICTION_COLUMNS: tuple[str, ...] = (
    "lmt_gend",
    "lmt_age_min",
    "lmt_age_max",
    "lmt_medins_lv",
    "lmt_dx",
)
_RESTRICTION_COLUMNS += ("max_days", "max_cnt_day")


@cache
def _evidence_drugs() -> tuple[dict[str, str], ...]:
    path = resources.files(__package__).joinpath("data/evidence_drugs.csv")
    with open_csv_text(path) as fh:
        return tuple(csv.DictReader(fh))


@cache
def _national_kinds() -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = {}
    for code, kind in zip(
        *restrictions.load("item_restriction").select(["hilist_code", "kind"]).to_pydict().values(),
        strict=True,
    ):
        out.setdefault(code, set()).add(kind)
    return {k: frozenset(v) for k, v in out.items()}


@cache
def _dup_partners() -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = {}
    pairs = restrictions.load("dup_charge_pair").select(["main_code", "sub_code"]).to_pydict()
    for a, b in zip(pairs["main_code"], pairs["sub_code"], strict=True):
        out.setdefault(a, set()).add(b)
        out.setdefault(b, set()).add(a)
    return {k: frozenset(v) for k, v in out.items()}


@cache
def _shipped_rows() -> dict[str, dict[str, object]]:
    return {r["hilist_code"]: r for r in shipped_hilist().to_pylist()}


def drug_code(atc: str, name: str) -> str:
    """A national-format western-drug code: X + ATC(5) + name(4) + form/spec(4) + 9 digits."""
    h = int(hashlib.sha1(f"{atc}{name}".encode()).hexdigest(), 16)
    letter = "ABCDEFGHJKLMNPQRSTWXYZ"[h % 22]
    form = "A" if any(u in name for u in ("片", "胶囊", "丸")) else "B"
    return f"X{atc}{letter}{h // 22 % 1000:03d}{form}001010100{h // 22000 % 1000:03d}"


class Resolver:
    """Chooses (and adds to the catalog) the items that prove codes under ``knowledge``."""

    def __init__(self, cat: Catalog, knowledge: Knowledge) -> None:
        self.cat = cat
        self.knowledge = knowledge
        self.constrained = knowledge.constrained_items()
        self.unresolved: list[str] = []

    def usable(self, idx: int) -> bool:
        """Whether catalog item ``idx`` can be billed as evidence without side effects."""
        r = self.cat.rows[idx]
        if r["role"].startswith(("surgery:", "plant_")) or any(
            r.get(c) for c in _RESTRICTION_COLUMNS
        ):
            return False
        return self._code_ok(r["hilist_code"])

    def _code_ok(self, code: str, strict: bool = True) -> bool:
        if not _national_kinds().get(code, frozenset()) <= HARMLESS_KINDS:
            return False
        if strict and code in self.constrained:
            return False
        return not (_dup_partners().get(code, frozenset()) & set(self.cat.code_index))

    @staticmethod
    def covers(code: str, ev: Evidence) -> bool:
        kind, value = ev
        if kind == "atc":
            return code.startswith("X") and code[1:].startswith(value)
        return code == value

    def _new_rows(self, ev: Evidence) -> Iterable[dict[str, str]]:
        kind, value = ev
        if kind == "atc":
            for d in _evidence_drugs():
                if d["atc"].startswith(value):
                    yield {
                        "role": f"ev:{d['atc']}",
                        "hilist_code": drug_code(d["atc"], d["name"]),
                        "hilist_name": d["name"],
                        "list_type": "1",
                        "med_chrgitm_type": "09",
                        "chrgitm_lv": d["chrgitm_lv"],
                        "pric_lv3": d["price"],
                        "unit": d["unit"],
                    }
            return
        shipped = _shipped_rows().get(value)
        if shipped is None or not self._code_ok(value):
            return
        chrg = str(shipped["med_chrgitm_type"] or "05")
        yield {
            "role": f"ev:{value}",
            "hilist_code": value,
            "hilist_name": str(shipped["hilist_name"]),
            "list_type": str(shipped["list_type"] or "2"),
            "med_chrgitm_type": chrg,
            "chrgitm_lv": "01",
            "pric_lv3": ITEM_PRICE.get(chrg, "50.00"),
            "unit": str(shipped["unit"] or "次"),
        }

    def resolve(self, code: str, groups: list[frozenset[Evidence]], preferred=()) -> list[int]:
        """Catalog indices whose lines cover every group (``preferred`` are billed anyway)."""
        chosen = list(preferred)
        codes = [self.cat.rows[i]["hilist_code"] for i in chosen]
        todo = [g for g in groups if not any(self.covers(c, e) for c in codes for e in g)]
        while todo:
            options: dict[str, tuple[int, int, dict[str, str] | None]] = {}
            for i, r in enumerate(self.cat.rows):
                if self.usable(i):
                    options[r["hilist_code"]] = (0, i, None)
            for g in todo:
                for ev in sorted(g):
                    for row in self._new_rows(ev):
                        options.setdefault(row["hilist_code"], (1, len(options), row))
            scored = [
                (-sum(any(self.covers(c, e) for e in g) for g in todo), rank, order, c)
                for c, (rank, order, _) in options.items()
            ]
            best = min(scored, default=None)
            if best is None or best[0] == 0:
                self.unresolved.append(code)
                break
            rank, order, new_row = options[best[3]]
            idx = self.cat.add_row(new_row) if new_row is not None else order
            chosen.append(idx)
            todo = [g for g in todo if not any(self.covers(best[3], e) for e in g)]
        return chosen

    def surgery_item(self, oprn: str, name: str, price: str, min_lv: int) -> int:
        """The surgery fee item of a procedure: the national item its evidence names, if any."""
        for g in self.knowledge.oprn_groups(oprn):
            for kind, value in sorted(g):
                if kind != "item":
                    continue
                if value in self.cat.code_index:
                    idx = self.cat.code_index[value]
                    # Shared by procedures of several complexities: the lowest level wins.
                    row = self.cat.rows[idx]
                    if int(row.get("lmt_medins_lv") or 1) > min_lv:
                        row["lmt_medins_lv"] = str(min_lv) if min_lv > 1 else ""
                        self.cat.__post_init__()
                    return idx
                shipped = _shipped_rows().get(value)
                # One procedure item per stay: bundle membership is harmless here.
                if shipped is not None and self._code_ok(value, strict=False):
                    return self.cat.add_row(
                        {
                            "role": f"surgery:{oprn}",
                            "hilist_code": value,
                            "hilist_name": str(shipped["hilist_name"]),
                            "list_type": "2",
                            "med_chrgitm_type": str(shipped["med_chrgitm_type"] or "06"),
                            "chrgitm_lv": "01",
                            "pric_lv3": price,
                            "unit": str(shipped["unit"] or "次"),
                            "lmt_medins_lv": str(min_lv) if min_lv > 1 else "",
                        }
                    )
        return -1
