"""Rule pack: restrict."""

from __future__ import annotations
