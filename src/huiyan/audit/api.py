"""Python API of the audit: run the library on a store, list the catalog, evaluate against labels."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from huiyan.audit import engine
from huiyan.audit.evaluate import evaluate, read_labels
from huiyan.audit.inputs import bind, store_source
from huiyan.audit.spec import AMOUNT_METHODS, registry
from huiyan.model.enums import label

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from huiyan.audit.spec import RuleSpec
    from huiyan.engine import Engine

CATALOG_COLUMNS = {
    "rule_id": "规则编号",
    "rule_name": "规则名称",
    "vola_bhvr_type": "违规类别",
    "class_name": "类别名称",
    "sev_deg": "严重程度",
    "stages": "审核环节",
    "amount": "金额计算",
    "enabled": "启用",
    "params": "参数",
    "vola_evid": "政策依据",
}


def audit_store(
    store: Engine,
    config: dict[str, dict[str, Any]],
    *,
    stage: str = "post",
    only: Iterable[str] | None = None,
    on_rule: Callable[[RuleSpec], None] | None = None,
) -> engine.AuditResult:
    """Run the enabled rules over the tables in ``store`` (nothing is written)."""
    inputs = bind(store_source(store), config)
    try:
        return engine.run(inputs, config["audit"], stage=stage, only=only, on_rule=on_rule)
    finally:
        inputs.release()


def catalog(config: dict[str, dict[str, Any]]) -> pa.Table:
    """The rule catalog in Chinese (one row per rule, columns ``CATALOG_COLUMNS``)."""
    rows = []
    for spec in registry().values():
        entry = engine.rule_config(config["audit"], spec)
        params = entry.get("params") or {}
        rows.append(
            {
                "rule_id": spec.id,
                "rule_name": spec.name,
                "vola_bhvr_type": spec.vola_bhvr_type,
                "class_name": label("vola_bhvr_type", spec.vola_bhvr_type),
                "sev_deg": label("sev_deg", str(entry.get("sev_deg", spec.sev_deg))),
                "stages": "/".join(label("stage", s) for s in spec.stages),
                "amount": AMOUNT_METHODS[spec.amount],
                "enabled": "是" if entry.get("enabled", True) else "否",
                "params": "; ".join(f"{k}={v}" for k, v in params.items()),
                "vola_evid": spec.vola_evid,
            }
        )
    return pa.Table.from_pylist(rows)


def evaluate_store(store: Engine, labels: str | Path) -> pa.Table:
    """Per-class precision, recall, F1 and amounts of the stored (post) findings against
    ``labels``."""
    from huiyan.model.domain import settled_findings
    from huiyan.model.tables import FINDING

    if not store.has(FINDING.name):
        findings = FINDING.empty()
    else:
        findings = store.to_arrow(settled_findings(store.table(FINDING.name)))
    return evaluate(findings, read_labels(labels))
