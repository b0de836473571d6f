"""Ibis table expressions evaluated directly on small Arrow tables: nothing planned per run.

The real-time audit runs the batch audit's own rule expressions on one encounter at a time.
An analytic engine binds and optimizes every statement on every run (measured in the small
engine: ~3 ms of planning against ~0.06 ms of execution per rule statement), which is most of
a request's budget. ``ArrowEvaluator`` instead walks the expression's operation graph
directly with Arrow compute kernels: per run it only evaluates, and what reads knowledge only
(constant tables) is computed once and kept, with the hash indexes of the joins that probe it.

Semantics are those of the local store's SQL for what the rules use (the batch audit runs
there, and the real-time answer must be the same): SQL null logic, decimal arithmetic exact
at the local store's scales, casts rounding half away from zero, ``greatest`` ignoring nulls,
texts of numbers and times formatted as the local store formats them. An operation outside
this set raises ``Unsupported`` when the expression is checked, before any run, so a caller
can keep that expression on the engine.

Meant for a few thousand rows: joins are hash joins over Python tuples and a few operations
(decimal arithmetic that would overflow Arrow's precision, per-row string lengths) fall back
to per-value Python.
"""

from __future__ import annotations

from huiyan.engine.arrow_eval.base import Unsupported
from huiyan.engine.arrow_eval.evaluator import ArrowEvaluator

__all__ = ["ArrowEvaluator", "Unsupported"]
