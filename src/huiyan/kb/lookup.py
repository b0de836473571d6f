"""What the knowledge base knows about one code: kind, name, catalogs, restrictions, knowledge rows."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

import pyarrow as pa
import pyarrow.compute as pc

from huiyan.kb import catalog, dictionaries, knowledge, restrictions
from huiyan.kb.tablefiles import open_csv_text
from huiyan.model.kb_tables import DUP_CHARGE_PAIR, ITEM_RESTRICTION, SURGERY_DISCOUNT

# Columns of each knowledge table that hold a code: "dx"/"oprn" hold prefixes of diagnosis or
# procedure codes, "item" holds exact catalog codes, "evidence" an item code or an ATC prefix.
_CODE_COLUMNS = {
    "dx_evidence": (("diag_prefix", "dx"), ("evidence_code", "evidence")),
    "oprn_evidence": (("oprn_prefix", "oprn"), ("evidence_code", "evidence")),
    "diag_restriction": (("diag_prefix", "dx"),),
    "diag_exclusive": (("diag_prefix_a", "dx"), ("diag_prefix_b", "dx")),
    "item_exclusive": (("hilist_code", "item"),),
    "item_bundle": (("bundle_code", "item"), ("component_code", "item")),
    "exam_indication": (("hilist_code", "item"),),
    "procedure_incision": (("oprn_prefix", "oprn"),),
    "outpatient_treatable": (("diag_prefix", "dx"),),
}
_SHAPES = {"dx": re.compile(r"^[A-Z]\d\d"), "oprn": re.compile(r"^\d\d\.?\d")}


@dataclass
class CodeReport:
    """Everything found about a code; ``rows`` maps a table name to its matching rows."""

    code: str
    kind: str = "未知编码"
    name: str = ""
    lists: list[str] = field(default_factory=list)
    rows: dict[str, list[dict[str, object]]] = field(default_factory=dict)


def _matches(code: str, column: pa.ChunkedArray, mode: str) -> pa.ChunkedArray:
    values = pc.fill_null(column, "")
    candidates = [code]
    if mode in _SHAPES and _SHAPES[mode].match(code):
        candidates += [code[:n] for n in range(1, len(code))]
    elif mode == "evidence" and code.startswith("X"):
        # The ATC class is read from a western-drug code after its leading "X".
        candidates += [code[1:n] for n in range(2, len(code))]
    return pc.is_in(values, value_set=pa.array(candidates, pa.string()))


def lookup(code: str) -> CodeReport:
    """What huiyan knows about ``code`` (a diagnosis, procedure, drug or service item)."""
    code = code.strip()
    report = CodeReport(code)
    diagnoses, procedures = dictionaries.diagnoses(), dictionaries.procedures()
    hilist = catalog.shipped_hilist()
    hit = hilist.filter(pc.equal(hilist.column("hilist_code"), code))
    if code in diagnoses:
        report.kind, report.name = "诊断 (ICD-10 医保版2.0)", diagnoses[code]
    elif code in procedures:
        report.kind, report.name = "手术操作 (ICD-9-CM-3 医保版2.0)", procedures[code]
    elif hit.num_rows:
        row = hit.to_pylist()[0]
        kinds = {"1": "药品", "2": "医疗服务项目", "3": "医用耗材"}
        report.kind, report.name = (
            kinds.get(row["list_type"] or "", "医保目录项目"),
            row["hilist_name"],
        )
    if hit.num_rows:
        report.lists.append("默认医保目录 hilist")
    for label, members in _code_lists().items():
        if code in members:
            report.lists.append(label)
    _add(
        report,
        ITEM_RESTRICTION.name,
        restrictions.load(ITEM_RESTRICTION.name),
        (("hilist_code", "item"),),
    )
    _add(
        report,
        DUP_CHARGE_PAIR.name,
        restrictions.load(DUP_CHARGE_PAIR.name),
        (("main_code", "item"), ("sub_code", "item")),
    )
    _add(
        report,
        SURGERY_DISCOUNT.name,
        restrictions.load(SURGERY_DISCOUNT.name),
        (("hilist_code", "item"),),
    )
    for name, columns in _CODE_COLUMNS.items():
        _add(report, name, knowledge.shipped(name), columns)
    return report


def _add(
    report: CodeReport, name: str, table: pa.Table, columns: tuple[tuple[str, str], ...]
) -> None:
    mask = None
    for column, mode in columns:
        m = _matches(report.code, table.column(column), mode)
        mask = m if mask is None else pc.or_(mask, m)
    found = table.filter(mask)
    if found.num_rows:
        report.rows[name] = found.to_pylist()


@cache
def _code_lists() -> dict[str, set[str]]:
    import csv
    from importlib import resources

    lists = {}
    folder = resources.files("huiyan.kb").joinpath(f"data/drg/{dictionaries.NATIONAL_SCHEME}")
    for file, label in (
        ("mcc.tsv", "CHS-DRG 1.1 严重并发症/合并症 MCC"),
        ("cc.tsv", "CHS-DRG 1.1 并发症/合并症 CC"),
        ("or_procedures.tsv", "CHS-DRG 1.1 手术室手术 OR"),
    ):
        with open_csv_text(folder.joinpath(file)) as fh:
            reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
            next(reader)
            lists[label] = {row[0] for row in reader}
    return lists
