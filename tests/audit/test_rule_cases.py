"""Every rule's pass and fail cases (``cases/<RULE-ID>.yaml``) on DuckDB."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from huiyan.audit import engine
from huiyan.audit.inputs import bind, store_source
from huiyan.audit.spec import registry
from huiyan.engine import Store
from huiyan.kb import config

from .casefile import case_files, load_case, read


def _cases() -> list[Any]:
    params = []
    for path in case_files():
        spec = read(path)
        for name, case in spec["cases"].items():
            params.append(pytest.param(spec["rule"], name, case, id=f"{path.stem}:{name}"))
    return params


def _findings(tmp_path: Path, rule_id: str, case: dict[str, Any]) -> list[dict[str, Any]]:
    cfg = config.load()
    for key, value in (case.get("config") or {}).items():
        cfg["audit"]["rules"][rule_id]["params"][key] = value
    with Store(tmp_path / "case.duckdb") as store:
        load_case(store, case)
        # Tables of a handful of rows: computing the shared inputs inline is cheaper than
        # materialising them as the engine does for real volumes.
        source = store_source(store)
        source.cache = lambda t: t
        result = engine.run(bind(source, cfg), cfg["audit"], stage="post", only=[rule_id])
    return result.findings.to_pylist()


@pytest.mark.parametrize(("rule_id", "name", "case"), _cases())
def test_rule_case(tmp_path: Path, rule_id: str, name: str, case: dict[str, Any]) -> None:
    got = _findings(tmp_path, rule_id, case)
    want = case["expect"]
    assert [(f["setl_id"], f["detail"]) for f in got] == [
        (e["setl_id"], e.get("detail")) for e in want
    ], [f["vola_cont"] for f in got]
    for f, e in zip(got, want, strict=True):
        assert f["rule_id"] == rule_id
        if "vola_amt" in e:
            assert f["vola_amt"] == Decimal(str(e["vola_amt"])).quantize(Decimal("0.01"))
        assert f["vola_cont"]


@pytest.mark.parametrize(("rule_id", "name", "case"), _cases())
def test_rule_case_on_arrow(tmp_path: Path, rule_id: str, name: str, case: dict[str, Any]) -> None:
    """The same case evaluated by the real-time path's Arrow evaluator gives the same findings
    as the local store (texts, amounts, units), so every rule may run on either."""
    from huiyan.audit.findings import assemble
    from huiyan.audit.inputs import STORE_TABLES
    from huiyan.engine.arrow_eval import ArrowEvaluator

    cfg = config.load()
    for key, value in (case.get("config") or {}).items():
        cfg["audit"]["rules"][rule_id]["params"][key] = value
    spec = registry()[rule_id]
    with Store(tmp_path / "case.duckdb") as store:
        load_case(store, case)
        source = store_source(store)
        source.cache = lambda t: t
        source.small = None  # knowledge as in-memory tables: constants of the evaluator
        entry = engine.rule_config(cfg["audit"], spec)
        expr = engine.hits(spec, bind(source, cfg), dict(entry.get("params") or {}))
        on_store = expr.to_pyarrow()
        stored = set(store.tables())
        tables = {n: store.read(n) for n in STORE_TABLES if n in stored}
    evaluator = ArrowEvaluator()
    evaluator.check(expr)
    on_arrow = evaluator.run(expr, tables, {})
    assert on_arrow.schema == on_store.schema
    want, got = (
        assemble(spec, hits, stage="post", sev_deg=spec.sev_deg, text_limit=10).to_pylist()
        for hits in (on_store, on_arrow)
    )
    assert got == want
    assert [(f["setl_id"], f["detail"]) for f in got] == [
        (e["setl_id"], e.get("detail")) for e in case["expect"]
    ]


def test_every_rule_has_pass_and_fail_cases() -> None:
    covered: dict[str, set[str]] = {}
    for path in case_files():
        spec = read(path)
        assert path.stem == spec["rule"]
        covered[spec["rule"]] = {n.split("_")[0] for n in spec["cases"]}
    missing = [r for r in registry() if covered.get(r, set()) != {"pass", "fail"}]
    assert not missing, f"rules without pass and fail cases: {missing}"
