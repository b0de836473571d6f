"""pipeline/steps."""

from __future__ import annotations
