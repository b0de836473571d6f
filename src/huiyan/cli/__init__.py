"""The ``huiyan`` command line (Typer + Rich).

Each module registers the commands of one area with ``register(app)``; ``main.py`` lists the
modules. Heavy imports (Ibis, the steps) happen inside the command functions so that
``huiyan --help`` stays fast.
"""

from __future__ import annotations
