"""Payment standards and per-case payment (测算与模拟支付), DRG and DIP.

``formulas.py`` holds the policy formulas as pure functions (doctested); ``weights.py`` derives
DRG weights from history; ``drg.py`` and ``dip.py`` price every case as one Ibis expression
each; ``simulation.py`` compares simulated with actual payment. Pricing reads the stored
``drg_result``/``dip_result``/``dip_catalog`` tables, never the groupers. To add a payment
variant, add its parameter to ``kb/data/config/payment.yaml`` and a branch in the case-type /
amount ``cases`` of ``drg.py`` or ``dip.py``, with a test reproducing the region's example.
"""

from __future__ import annotations
