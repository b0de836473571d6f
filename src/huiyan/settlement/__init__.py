"""Settlement 结算: monthly pre-settlement, year-end clearing and redistribution, to the fen.

``allocate.py`` (fen arithmetic, largest remainder) and ``bands.py`` (surplus/overspend
sharing) are pure and doctested; ``ledger.py`` computes a run's ledgers from arrays in fen;
``run.py`` gathers cases from the stored ``payment`` table and writes ``settlement``,
``settlement_case`` and ``settlement_pool``. Parameters live in
``kb/data/config/settlement.yaml``. To add a clearing rule, add its parameter there and a pure
step in ``ledger.year_end`` that keeps pool in = paid out + withheld + redistributed.
"""

from __future__ import annotations
