"""Reference code tables the checks join against, as Arrow tables registered on the backend.

Dictionaries come from ``huiyan.kb`` (ICD-10 / ICD-9-CM-3 医保版 2.0, department, nationality,
blood unit) and from this package's ``data/`` (sex-specific codes, codes not allowed as
principal diagnosis, value domains the model leaves open). Registering them as tables, not
Python sets, keeps every check one set-based expression on every engine.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

import pyarrow as pa
import yaml

from huiyan.kb import dictionaries, sex_limits
from huiyan.kb.tablefiles import open_csv_text
from huiyan.model import enums

if TYPE_CHECKING:
    from collections.abc import Callable

    import ibis.expr.types as ir

_KB_DICTS = {
    "dept": "dict_dept_code.csv",
    "ntly": "dict_nationality.csv",
    "bld_unt": "dict_blood_unit.csv",
}


def _code_name(pairs: dict[str, str]) -> pa.Table:
    return pa.table(
        {
            "code": pa.array(list(pairs), pa.string()),
            "name": pa.array(list(pairs.values()), pa.string()),
        }
    )


def _own_csv(file: str) -> pa.Table:
    path = resources.files("huiyan.quality").joinpath(f"data/{file}")
    with open_csv_text(path) as fh:
        rows = list(csv.DictReader(fh))
    return pa.table({k: pa.array([r[k] for r in rows], pa.string()) for k in rows[0]})


@cache
def code_tables() -> dict[str, dict[str, str]]:
    """Value domains of ``data/code_tables.yaml``: name -> {code: label}."""
    text = resources.files("huiyan.quality").joinpath("data/code_tables.yaml").read_text("utf-8")
    return {k: {str(c): str(v) for c, v in d.items()} for k, d in yaml.safe_load(text).items()}


@cache
def code_set(name: str) -> dict[str, str]:
    """The codes of a named set: a kb dictionary, a code table here, or a model enumeration."""
    if name == "icd10":
        return dictionaries.diagnoses()
    if name == "icd9":
        return dictionaries.procedures()
    if name in _KB_DICTS:
        return dictionaries.code_dictionary(_KB_DICTS[name])
    if name in code_tables():
        return code_tables()[name]
    if name in enums():
        return enums()[name]
    raise KeyError(f"unknown code set {name!r}")


@cache
def arrow_tables() -> dict[str, pa.Table]:
    """Every reference table as Arrow (code sets as code/name; the data CSVs as published)."""
    names = ["icd10", "icd9", *_KB_DICTS, *code_tables()]
    out = {n: _code_name(code_set(n)) for n in names}
    out["sex_specific"] = sex_limits.table()
    out["principal_not_allowed"] = _own_csv("principal_not_allowed.csv")
    return out


def register(small: Callable[[str, pa.Table], ir.Table]) -> dict[str, ir.Table]:
    """Every reference table handed to the engine with ``small(name, arrow)`` (e.g.
    ``Engine.register``), by name."""
    return {name: small(f"_qc_ref_{name}", data) for name, data in arrow_tables().items()}
