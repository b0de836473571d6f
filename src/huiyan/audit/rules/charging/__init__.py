"""Rule pack: charging."""

from __future__ import annotations
