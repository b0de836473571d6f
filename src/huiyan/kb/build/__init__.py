"""Scripts that regenerate committed package data from the published sources.

Each module has ``build() -> str`` (the file's exact text) and a ``main`` that writes it:
``python -m huiyan.kb.build.catalog``. A test compares ``build()`` with the committed file, so
a change to a source or a script shows up as a failing test until the file is regenerated.
"""

from __future__ import annotations
