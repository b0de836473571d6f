"""settlement."""

from __future__ import annotations
