"""kb."""

from __future__ import annotations
