"""Rule pack: clinical."""

from __future__ import annotations
