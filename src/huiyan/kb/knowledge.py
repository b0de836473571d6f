"""Knowledge tables (docs/design.md §3): the defaults huiyan ships and a dataset's overrides.

Each table is ``data/knowledge/<name>.csv`` with the model's columns; ``tables.yaml`` beside
them names each table's merge key. A dataset's ``knowledge/<name>`` rows extend the shipped
ones, and for a key the dataset names they replace every shipped row with that key:

============================ ===================================
table                        key
============================ ===================================
dx_evidence                  diag_prefix + role
oprn_evidence                oprn_prefix
diag_restriction             diag_prefix
diag_exclusive               the pair, in either order
item_exclusive               group_id
item_bundle                  bundle_code
exam_indication              group_id
procedure_incision           oprn_prefix
outpatient_treatable         diag_prefix
drg_weight                   scheme + drg
============================ ===================================

Codes in these tables may be prefixes; ``longest_prefix_match`` joins codes to a knowledge
table so that only the longest matching prefix of each code counts, as one Ibis expression.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import yaml

from huiyan.errors import ConfigurationError
from huiyan.kb.tablefiles import read_package_csv
from huiyan.model.tables import KNOWLEDGE_TABLES

if TYPE_CHECKING:
    import ibis.expr.types as ir

TABLES = {t.name: t for t in KNOWLEDGE_TABLES}


@cache
def _spec() -> dict[str, dict[str, Any]]:
    text = resources.files("huiyan.kb").joinpath("data/knowledge/tables.yaml").read_text("utf-8")
    spec: dict[str, dict[str, Any]] = yaml.safe_load(text)
    for name, entry in spec.items():
        if name not in TABLES or not set(entry["key"]) <= set(TABLES[name].columns):
            raise ConfigurationError(f"data/knowledge/tables.yaml: bad entry {name!r}")
    return spec


def names() -> tuple[str, ...]:
    """The knowledge tables, in the order of the model."""
    return tuple(TABLES)


def key(name: str) -> tuple[str, ...]:
    """The merge key of knowledge table ``name``."""
    return tuple(_spec()[_known(name)]["key"])


def _known(name: str) -> str:
    if name not in TABLES:
        raise KeyError(f"unknown knowledge table {name!r}; known: {', '.join(TABLES)}")
    return name


@cache
def shipped(name: str) -> pa.Table:
    """The default rows huiyan ships for knowledge table ``name`` (model schema)."""
    return read_package_csv(f"knowledge/{_known(name)}.csv", TABLES[name])


def _key_strings(table: pa.Table, name: str) -> pa.ChunkedArray | pa.Array:
    cols = [pc.fill_null(table.column(c).cast(pa.string()), "") for c in key(name)]
    if _spec()[name].get("unordered"):
        a, b = cols
        first = pc.if_else(pc.less_equal(a, b), a, b)
        cols = [first, pc.if_else(pc.less_equal(a, b), b, a)]
    if len(cols) == 1:
        return cols[0]
    return pc.binary_join_element_wise(*cols, "\x1f")


def merge(name: str, shipped_rows: pa.Table, dataset: pa.Table | None) -> pa.Table:
    """``shipped_rows`` extended by ``dataset``; the dataset's rows replace those of its keys."""
    table = TABLES[_known(name)]
    if dataset is None or dataset.num_rows == 0:
        return shipped_rows
    own = table.conform(dataset)
    replaced = pc.is_in(
        _key_strings(shipped_rows, name), value_set=pc.unique(_key_strings(own, name))
    )
    return pa.concat_tables([shipped_rows.filter(pc.invert(replaced)), own])


def effective(name: str, dataset: pa.Table | None) -> pa.Table:
    """The table a run uses: the shipped defaults merged with the dataset's rows."""
    return merge(name, shipped(name), dataset)


def longest_prefix_match(
    codes: ir.Table, code_col: str, knowledge: ir.Table, prefix_col: str
) -> ir.Table:
    """Rows of ``codes`` joined to the ``knowledge`` rows of their longest matching prefix.

    ``J96.000x001`` matches both ``J96`` and ``J96.0``; only the ``J96.0`` rows are kept (all
    of them, when several rows share that prefix). Codes with no matching prefix drop out.
    Written with Ibis only (a non-equi join and a window), so it runs on every engine.
    """
    import ibis

    joined = codes.join(knowledge, codes[code_col].startswith(knowledge[prefix_col]))
    length = joined[prefix_col].length()
    # Every column of ``codes`` identifies the code occurrence the window ranks within.
    longest = length.max().over(ibis.window(group_by=[joined[c] for c in codes.columns]))
    return joined.filter(length == longest)
