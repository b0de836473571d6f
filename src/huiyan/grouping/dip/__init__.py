"""DIP grouping (按病种分值付费): case features, a catalog built from history, and matching.

A case's packet is its principal-diagnosis subcategory plus the sorted set of its procedure
codes (``features.py``); combinations with at least ``core_min_cases`` cases are core
packets, the rest fall into comprehensive packets by diagnosis category and procedure type
(``catalog.py``); ``match.py`` assigns every case. A bureau's published catalog loads from CSV
(``published.py``; format in its docstring). To change how procedures are typed, edit
``data/procedure_type.csv`` (ICD-9-CM-3 prefixes; operating-room procedures of the DRG scheme
count as surgery). Scores and money are the pricing step's business, not this package's.
"""

from __future__ import annotations
