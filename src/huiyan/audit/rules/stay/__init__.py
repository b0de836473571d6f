"""Rule pack: stay."""

from __future__ import annotations
