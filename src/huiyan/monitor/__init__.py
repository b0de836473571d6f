"""monitor."""

from __future__ import annotations
