"""The synthetic region's medical-insurance catalog (医保目录) and its restrictions.

``data/catalog.csv`` lists the service items, drugs and materials the generator bills, each
with a ``role`` the fee-line generator refers to. Codes are the national ones where the
NHSA knowledge points (``kb/data/lk/nhsa-lk-2025``) name them (beds, nursing, monitoring,
restricted drugs) and generated codes in the same national formats otherwise. Surgery items
are generated per procedure of the profiles (``surgery_item``). Level prices: level 3 is the
catalog price, levels 2 and 1 are discounted; a blank price means "not allowed at that level".
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from importlib import resources

import numpy as np
import pyarrow as pa

from huiyan.kb.tablefiles import open_csv_text
from huiyan.model.tables import HILIST

LEVEL_PRICE_FACTOR = {1: Decimal("0.80"), 2: Decimal("0.90"), 3: Decimal("1")}


@dataclass
class Catalog:
    """Catalog rows in role order plus numpy views used by the vectorised generator."""

    rows: list[dict[str, str]]
    index: dict[str, int] = field(init=False)
    code_index: dict[str, int] = field(init=False)
    price_fen: np.ndarray = field(init=False)  # shape (n, 4): column = hospital level, 0 unused

    def __post_init__(self) -> None:
        self.index = {r["role"]: i for i, r in enumerate(self.rows)}
        self.code_index = {r["hilist_code"]: i for i, r in enumerate(self.rows)}
        prices = np.zeros((len(self.rows), 4), dtype=np.int64)
        for i, r in enumerate(self.rows):
            base = Decimal(r["pric_lv3"])
            lowest = int(r.get("lmt_medins_lv") or 1)
            for lv in (1, 2, 3):
                if lv >= lowest:
                    prices[i, lv] = int((base * LEVEL_PRICE_FACTOR[lv] * 100).to_integral_value())
        self.price_fen = prices

    def __getitem__(self, role: str) -> int:
        return self.index[role]

    def code(self, role: str) -> str:
        return self.rows[self.index[role]]["hilist_code"]

    def add_surgery_item(self, oprn_code: str, oprn_name: str, price: Decimal, min_lv: int) -> int:
        """A surgery fee item for one procedure (generated 15-digit 0033… code); its index."""
        role = f"surgery:{oprn_code}"
        if role in self.index:
            return self.index[role]
        digest = int(hashlib.sha1(oprn_code.encode()).hexdigest(), 16) % 10**7
        code = f"0033{digest:07d}0000"
        while code in self.code_index:
            digest = (digest + 1) % 10**7
            code = f"0033{digest:07d}0000"
        self.rows.append(
            {
                "role": role,
                "hilist_code": code,
                "hilist_name": f"{oprn_name}(手术费)",
                "list_type": "2",
                "med_chrgitm_type": "06",
                "chrgitm_lv": "01",
                "pric_lv3": str(price),
                "unit": "次",
                "lmt_medins_lv": str(min_lv) if min_lv > 1 else "",
            }
        )
        self.__post_init__()
        return self.index[role]

    def add_row(self, row: dict[str, str]) -> int:
        """Add one catalog row (must carry ``role`` and ``hilist_code``); its index."""
        if row["role"] in self.index:
            return self.index[row["role"]]
        self.rows.append(row)
        self.__post_init__()
        return self.index[row["role"]]

    def column(self, name: str) -> np.ndarray:
        return np.array([r.get(name, "") or "" for r in self.rows], dtype=object)

    def hilist(self) -> pa.Table:
        """The catalog as the canonical ``hilist`` table."""
        cols: dict[str, list[object]] = {f.name: [] for f in HILIST.fields}
        for i, r in enumerate(self.rows):
            for f in HILIST.fields:
                if f.name.startswith("pric_lv"):
                    fen = int(self.price_fen[i, int(f.name[-1])])
                    cols[f.name].append(Decimal(fen) / 100 if fen else None)
                else:
                    text = r.get(f.name) or None
                    value: object = text
                    if text is not None and pa.types.is_integer(f.type):
                        value = int(text)
                    elif text is not None and pa.types.is_floating(f.type):
                        value = float(text)
                    elif text is not None and pa.types.is_decimal(f.type):
                        value = Decimal(text)
                    cols[f.name].append(value)
        return pa.table(
            {f.name: pa.array(cols[f.name], type=f.type) for f in HILIST.fields},
            schema=HILIST.arrow_schema(),
        )


@cache
def _base_rows() -> tuple[dict[str, str], ...]:
    path = resources.files(__package__).joinpath("data/catalog.csv")
    with open_csv_text(path) as fh:
        return tuple(csv.DictReader(fh))


def load_catalog() -> Catalog:
    """A fresh catalog (surgery items are added to it per region)."""
    return Catalog([dict(r) for r in _base_rows()])


def atc_of(code: str) -> str:
    """The ATC prefix readable from a national western-drug code (``X`` + ATC)."""
    return code[1:6] if code.startswith("X") else ""
