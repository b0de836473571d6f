"""Errors a user can act on: each names the file, row and field where it can."""

from __future__ import annotations


class HuiyanError(Exception):
    """Base class of errors shown to the user as a message instead of a traceback."""


class InputError(HuiyanError):
    """Input that cannot be read at all (missing folder, unreadable file, no rows)."""


class ConfigurationError(HuiyanError):
    """A configuration or knowledge file that is wrong."""


class StorageError(HuiyanError):
    """The store cannot be opened or written: in use by another process, disk full, no access."""
