"""pricing."""

from __future__ import annotations
