"""Rule pack: quantity."""

from __future__ import annotations
