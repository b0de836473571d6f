"""Runs the declared checks: builds each one's expression, renders its message, collects issues."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import ibis
import pyarrow as pa

from huiyan.errors import ConfigurationError
from huiyan.model.tables import QC_ISSUE
from huiyan.quality.inputs import QcInputs
from huiyan.quality.kinds import BUILDERS
from huiyan.quality.logic.registry import functions
from huiyan.quality.reference import register
from huiyan.quality.spec import INPUT_TABLES, CheckSpec, checks

if TYPE_CHECKING:
    import ibis.expr.types as ir

# ``{value}`` and ``{other}`` are columns of the failing row; any other ``{name}`` is the
# check's parameter ``name``, so a message states the threshold that was applied.
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_COLUMNS = ("value", "other")
# Parameters that select the check's code, not a threshold: not for a region to override.
_FIXED_PARAMS = frozenset({"fn"})


def inputs(
    table: Callable[[str], ir.Table],
    small: Callable[[str, pa.Table], ir.Table],
    qc_config: Mapping[str, Any],
    *,
    payment_scheme: str = "chs-drg-1.1",
) -> QcInputs:
    """Inputs for the checks: ``table(name)`` gives each input table, ``small(name, arrow)``
    hands a reference table to the same engine (``Engine.table`` and ``Engine.register``)."""
    params = {k: v for k, v in qc_config.items() if k != "checks"}
    return QcInputs(
        tables={n: table(n) for n in INPUT_TABLES},
        refs=register(small),
        params=params,
        payment_scheme=payment_scheme,
    )


def active_checks(qc_config: Mapping[str, Any]) -> list[CheckSpec]:
    """The shipped checks with the region's overrides, the same path as the audit rules':
    ``qc.checks.<ID>: {enabled, severity, params}``. ``params`` may set the check's own
    parameters (``checks.yaml``) or, for this check alone, a section-wide one (``qc.yaml``)."""
    overrides = qc_config.get("checks") or {}
    known = {c.id for c in checks()}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ConfigurationError(f"qc.checks: unknown check ids {unknown}")
    shared = {k for k in qc_config if k != "checks"}
    out = []
    for c in checks():
        o = overrides.get(c.id) or {}
        bad = sorted(set(o) - {"enabled", "severity", "params"})
        if bad:
            raise ConfigurationError(f"qc.checks.{c.id}: 未知设置 unknown keys {bad}")
        if not o.get("enabled", True):
            continue
        if "severity" in o:
            c = replace(c, severity=o["severity"])
        if o.get("params"):
            c = replace(c, params={**c.params, **_param_override(c, o["params"], shared)})
        out.append(c)
    return out


def _param_override(
    spec: CheckSpec, given: Mapping[str, Any], shared: set[str]
) -> Mapping[str, Any]:
    allowed = (set(spec.params) | shared) - _FIXED_PARAMS
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise ConfigurationError(
            f"qc.checks.{spec.id}.params: 未知参数 unknown parameter {', '.join(unknown)} "
            f"(可用 known: {', '.join(sorted(allowed)) or '无 none'})"
        )
    return given


def _message(spec: CheckSpec, raw: ir.Table, params: Mapping[str, Any]) -> ir.StringValue:
    template = spec.message
    pieces: list[ir.StringValue] = []
    pos = 0
    for m in _PLACEHOLDER.finditer(template):
        if m.start() > pos:
            pieces.append(ibis.literal(template[pos : m.start()]))
        name = m.group(1)
        if name in _COLUMNS:
            pieces.append(raw[name].fill_null("空"))
        elif name in params:
            pieces.append(ibis.literal(str(params[name])))
        else:
            raise ConfigurationError(
                f"{spec.id}: 提示语中的 {{{name}}} 不是参数 unknown placeholder"
            )
        pos = m.end()
    if pos < len(template):
        pieces.append(ibis.literal(template[pos:]))
    msg = pieces[0]
    for p in pieces[1:]:
        msg = msg.concat(p)
    return msg


def check_expr(q: QcInputs, spec: CheckSpec) -> ir.Table:
    """One check as one expression with the ``qc_issue`` columns (``medins_code`` from the list)."""
    params = {**q.params, **spec.params}
    if spec.kind == "logic":
        fn = functions().get(spec.params.get("fn", ""))
        if fn is None:
            raise ConfigurationError(f"{spec.id}: no logic function {spec.params.get('fn')!r}")
        raw = fn(q, params)
    else:
        raw = BUILDERS[spec.kind](q, spec)
    if "other" not in raw.columns:
        raw = raw.mutate(other=ibis.null("string"))
    s = q.setl_list.select(sid=q.setl_list.setl_id, medins_code=q.setl_list.medins_code)
    j = raw.left_join(s, raw.setl_id == s.sid)
    return j.select(
        setl_id=j.setl_id,
        medins_code=j.medins_code,
        check_id=ibis.literal(spec.id),
        field=j.field,
        value=j.value,
        message=_message(spec, j, params),
        severity=ibis.literal(spec.severity),
    )


def run_checks(
    q: QcInputs,
    specs: Iterable[CheckSpec],
    *,
    on_check: Callable[[CheckSpec, int], None] | None = None,
) -> pa.Table:
    """Execute every check (one query each) and return all issues as a ``qc_issue`` Arrow table."""
    parts = [QC_ISSUE.empty()]
    for spec in specs:
        result = QC_ISSUE.conform(check_expr(q, spec).to_pyarrow())
        parts.append(result)
        if on_check:
            on_check(spec, result.num_rows)
    return pa.concat_tables([QC_ISSUE.conform(p) for p in parts])
