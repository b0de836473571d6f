"""Run the enabled rules of the library over bound inputs and return the ``finding`` table."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from huiyan.audit.findings import CASE_ID_COLUMNS, assemble
from huiyan.audit.inputs import RuleInputs
from huiyan.audit.spec import HIT_COLUMNS, RuleSpec, check_params, registry
from huiyan.errors import ConfigurationError
from huiyan.model.tables import FINDING

log = logging.getLogger(__name__)


@dataclass
class AuditResult:
    """The findings and how long each rule took (seconds)."""

    findings: pa.Table
    seconds: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


def rule_config(audit: dict[str, Any], spec: RuleSpec) -> dict[str, Any]:
    """The configuration entry of ``spec`` (``enabled``, ``sev_deg``, ``params``), its
    parameters checked against the rule's declaration (a region's override included)."""
    entry = audit.get("rules", {}).get(spec.id)
    if entry is None:
        raise ConfigurationError(f"audit.yaml: 规则 {spec.id} 缺少参数配置")
    check_params(spec, entry.get("params") or {}, f"audit.rules.{spec.id}.params")
    return entry


def enabled_rules(
    audit: dict[str, Any], *, stage: str | None = None, only: Iterable[str] | None = None
) -> list[RuleSpec]:
    """The rules to run: enabled in the configuration, supporting ``stage``, among ``only``."""
    wanted = set(only) if only is not None else None
    rules = registry()
    if wanted is not None and wanted - set(rules):
        raise ConfigurationError(f"未知的规则: {', '.join(sorted(wanted - set(rules)))}")
    unknown = set(audit.get("rules", {})) - set(rules)
    if unknown:
        raise ConfigurationError(f"audit.rules 中有未知的规则编号: {', '.join(sorted(unknown))}")
    return [
        spec
        for spec in rules.values()
        if rule_config(audit, spec).get("enabled", True)
        and (stage is None or stage in spec.stages)
        and (wanted is None or spec.id in wanted)
    ]


def hits(spec: RuleSpec, inputs: RuleInputs, params: dict[str, Any]) -> Any:
    """The rule's hits joined to the case ids (an Ibis expression, not yet executed)."""
    h = spec.fn(inputs, params)
    missing = set(HIT_COLUMNS) - set(h.columns)
    if missing:
        raise TypeError(f"rule {spec.id} returned no columns {sorted(missing)}")
    h = h.select(
        h_setl_id=h.setl_id,
        unit=h.unit.cast("string"),
        amount=h.amount.cast("float64"),
        text=h.text.cast("string"),
    )
    c = inputs.case.select(*CASE_ID_COLUMNS)
    j = h.join(c, h.h_setl_id == c.setl_id)
    return j.select(*CASE_ID_COLUMNS, "unit", "amount", "text")


def run(
    inputs: RuleInputs,
    audit: dict[str, Any],
    *,
    stage: str = "post",
    only: Iterable[str] | None = None,
    on_rule: Callable[[RuleSpec], None] | None = None,
) -> AuditResult:
    """Run every enabled rule supporting ``stage``; findings sorted by rule and settlement."""
    result = AuditResult(findings=FINDING.empty())
    parts: list[pa.Table] = []
    limit = int(audit.get("text_limit", 10))
    for spec in enabled_rules(audit, stage=stage, only=only):
        entry = rule_config(audit, spec)
        started = time.perf_counter()
        table = hits(spec, inputs, dict(entry.get("params") or {})).to_pyarrow()
        part = assemble(
            spec,
            table,
            stage=stage,
            sev_deg=str(entry.get("sev_deg", spec.sev_deg)),
            text_limit=limit,
        )
        result.seconds[spec.id] = time.perf_counter() - started
        result.counts[spec.id] = part.num_rows
        log.info("rule %s: %d findings in %.2fs", spec.id, part.num_rows, result.seconds[spec.id])
        parts.append(part)
        if on_rule is not None:
            on_rule(spec)
    if parts:
        result.findings = pa.concat_tables(parts).sort_by(
            [("rule_id", "ascending"), ("setl_id", "ascending"), ("jr_id", "ascending")]
        )
    return result
