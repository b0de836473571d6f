"""DRG grouping (CHS-DRG 1.1 and its variants): one interpreter of schemes stored as data.

Two paths over the same compiled scheme: ``group_table`` (batch, set-based, numpy over
integer code ids) and ``group_case`` (one case with a Chinese trace). Schemes live in
``kb/data/drg/<name>/`` (see ``huiyan.kb.schemes``); see README.md in this folder.

To add a scheme: add its data folder (a delta on ``chs-drg-1.1`` with ``inherits``) and a
``sample_cases`` agreement test; no code changes unless it needs a new condition atom
(``conditions.py`` says how to add one). DIP lives in ``grouping/dip`` (its own package).
"""

from __future__ import annotations

from huiyan.grouping.batch import group_table
from huiyan.grouping.cases import Case, read_cases_csv
from huiyan.grouping.diff import diff_schemes
from huiyan.grouping.result import GroupResult
from huiyan.grouping.single import group_case

__all__ = ["Case", "GroupResult", "diff_schemes", "group_case", "group_table", "read_cases_csv"]
