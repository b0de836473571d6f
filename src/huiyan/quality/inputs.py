"""What a check sees: the store's tables as Ibis expressions, reference tables and parameters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import ibis

from huiyan.model.domain import NATIONAL_SCHEME, flagged_principal
from huiyan.quality.reference import code_set

if TYPE_CHECKING:
    import ibis.expr.types as ir


@dataclass
class QcInputs:
    """Input tables by name (``setl_list``, ``diseinfo`` ...), reference tables and ``qc`` params.

    ``payment_scheme`` is the DRG scheme whose ``drg_result`` rows count for grouping.
    """

    tables: Mapping[str, ir.Table]
    refs: Mapping[str, ir.Table]
    params: Mapping[str, Any] = field(default_factory=dict)
    payment_scheme: str = NATIONAL_SCHEME

    def __getattr__(self, name: str) -> ir.Table:
        try:
            return self.__dict__["tables"][name]
        except KeyError:
            raise AttributeError(name) from None

    def refs_codes(self, name: str) -> list[str]:
        """The codes of a small reference set (inlined into expressions as a list)."""
        return sorted(code_set(name))

    # ---- derived tables several checks share (built lazily, still expressions)
    @cached_property
    def stay(self) -> ir.Table:
        """One row per settlement: its stay window and length of stay (date difference, min 1)."""
        s = self.tables["setl_list"]
        days = s.dscg_time.date().delta(s.adm_time.date(), unit="day")
        return s.select(
            s.setl_id,
            s.mdtrt_id,
            s.medcasno,
            s.medins_code,
            s.adm_time,
            s.dscg_time,
            s.dscg_way,
            los=ibis.greatest(days, 1),
            stay_hours=(s.dscg_time.epoch_seconds() - s.adm_time.epoch_seconds()) / 3600.0,
        )

    @cached_property
    def net_fee(self) -> ir.Table:
        """Fee lines of each settlement, joined through ``mdtrt_id`` (refund lines included)."""
        f = self.tables["feedetail"]
        st = self.stay
        return f.join(st, f.mdtrt_id == st.mdtrt_id).select(
            st.setl_id,
            st.adm_time,
            st.dscg_time,
            st.los,
            f.feedetl_sn,
            f.init_feedetl_sn,
            f.fee_ocur_time,
            f.med_list_codg,
            f.med_chrgitm_type,
            f.cnt,
            f.pric,
            f.det_item_fee_sumamt,
        )

    @cached_property
    def principal(self) -> ir.Table:
        """The principal diagnosis rows (``maindiag_flag`` = 1)."""
        return flagged_principal(self.tables["diseinfo"])
