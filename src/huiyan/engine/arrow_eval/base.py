"""What every part of the evaluator shares: the value type and the refusal."""

from __future__ import annotations

from typing import Any, TypeAlias


class Unsupported(Exception):
    """The expression uses an operation this evaluator does not implement."""


# A column (``pa.Array``) or a value the same on every row (``pa.Scalar``).
Value: TypeAlias = Any
