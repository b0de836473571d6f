"""Reports: the run summary (Rich and HTML), Excel workbooks of the steps.

A report reads result tables from the store and never recomputes a step. To add one, write a
module with a function taking the ``Store`` and an output path, and a Jinja2 template under
``templates/`` if it is HTML.
"""

from __future__ import annotations
