"""Rule pack: drg."""

from __future__ import annotations
