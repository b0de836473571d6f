"""Legitimate look-alikes (``lookalikes/*.yaml``): clinically justified cases that resemble a
violation and that the whole rule library must leave alone (issue 18).

Each file is one case in the rule-case format (``casefile``) with a comment saying why it is
legitimate and ``resembles``: the classes it looks like. Every rule runs on it; the case
passes when no finding is of violation severity and none is of a class it resembles. The
cases share one store (their settlement, visit and person ids prefixed by the file, their
catalog and knowledge rows pooled) so the library runs once for the whole suite.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from huiyan.audit import engine
from huiyan.audit.inputs import bind, store_source
from huiyan.audit.spec import SEVERITY_VIOLATION
from huiyan.engine import Store
from huiyan.kb import config
from huiyan.model.enums import codes

from .casefile import HOSPITALS, read, table

LOOKALIKES = Path(__file__).parent / "lookalikes"


def _files() -> list[Path]:
    return sorted(LOOKALIKES.glob("*.yaml"))


ID_COLUMNS = ("setl_id", "mdtrt_id", "psn_no")


def _prefixed(t: pa.Table, prefix: str) -> pa.Table:
    for col in ID_COLUMNS:
        if col in t.column_names:
            i = t.column_names.index(col)
            t = t.set_column(i, col, pc.binary_join_element_wise(prefix, t.column(col), ""))
    return t


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    pooled: dict[str, list[pa.Table]] = {}
    for path in _files():
        case = {"setl_list": [{}], "diseinfo": [{}], **read(path)}
        for name, rows in case.items():
            if name != "resembles":
                pooled.setdefault(name, []).append(_prefixed(table(name, rows), path.stem + "/"))
    cfg = config.load()
    with Store(tmp_path_factory.mktemp("lookalikes") / "cases.duckdb") as store:
        store.write("medins", table("medins", HOSPITALS))
        for name, parts in pooled.items():
            t = pa.concat_tables(parts)
            if not set(ID_COLUMNS) & set(t.column_names):
                # A catalog or knowledge row two cases share is one row.
                t = t.group_by(t.column_names).aggregate([]).select(t.column_names)
            store.write(name, t)
        source = store_source(store)
        source.cache = lambda t: t
        result = engine.run(bind(source, cfg), cfg["audit"], stage="post")
    return result.findings.to_pylist()


@pytest.mark.parametrize("path", _files(), ids=lambda p: p.stem)
def test_lookalike_raises_nothing_it_resembles(findings: list[dict[str, Any]], path: Path) -> None:
    resembles = set(read(path)["resembles"])
    assert resembles <= set(codes("vola_bhvr_type")), resembles
    found = [f for f in findings if f["setl_id"].startswith(path.stem + "/")]
    wrong = [
        (f["rule_id"], f["setl_id"], f["vola_cont"])
        for f in found
        if f["sev_deg"] == SEVERITY_VIOLATION or f["vola_bhvr_type"] in resembles
    ]
    assert not wrong, wrong


def test_suite_covers_the_issue_patterns() -> None:
    covered = {c for path in _files() for c in read(path)["resembles"]}
    wanted = {"BEDHANG", "OVERTREAT", "SPLIT", "FAKE", "LOWADM", "UNDERSVC", "UPCODE", "DUPCHG"}
    assert len(_files()) >= 19
    assert wanted <= covered, wanted - covered
