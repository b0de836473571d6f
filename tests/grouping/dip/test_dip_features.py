"""DIP features read the scheme through the kb: a regional scheme's OR list is its parent's with
the region's delta applied, not a file of its own folder."""

from __future__ import annotations

import pyarrow as pa

from huiyan.engine import Store
from huiyan.grouping.dip.features import case_features
from huiyan.kb import config as kb_config
from huiyan.kb.schemes import load_scheme
from huiyan.model import table

# liaocheng-2022 inherits chs-drg-1.1; its or_procedures delta adds 33.2600x001 (肺穿刺活检)
# to the OR list and removes 46.8600 (内镜下结肠支架置入).
ADDED, REMOVED = "33.2600x001", "46.8600"


def _load(store: Store) -> None:
    store.write(
        "diseinfo",
        table("diseinfo").conform(
            pa.Table.from_pylist(
                [
                    {
                        "setl_id": "S1",
                        "diag_srt_no": 1,
                        "diag_code": "C34.100",
                        "maindiag_flag": "1",
                    },
                    {
                        "setl_id": "S2",
                        "diag_srt_no": 1,
                        "diag_code": "C18.700",
                        "maindiag_flag": "1",
                    },
                ]
            )
        ),
    )
    store.write(
        "oprninfo",
        table("oprninfo").conform(
            pa.Table.from_pylist(
                [
                    {"setl_id": "S1", "oprn_srt_no": 1, "oprn_oprt_code": ADDED},
                    {"setl_id": "S2", "oprn_srt_no": 1, "oprn_oprt_code": REMOVED},
                ]
            )
        ),
    )


def test_the_regional_or_list_is_the_parents_with_the_delta() -> None:
    national = set(load_scheme("chs-drg-1.1").code_list("or_procedures"))
    regional = set(load_scheme("liaocheng-2022").code_list("or_procedures"))
    assert load_scheme("liaocheng-2022").parent == "chs-drg-1.1"
    assert ADDED in regional - national
    assert REMOVED in national - regional


def test_or_only_features_follow_the_inheriting_scheme(store: Store) -> None:
    _load(store)
    params = {**kb_config.defaults("payment")["dip"], "procedures": "or_only"}

    def procedures(scheme: str) -> dict[str, str]:
        t = case_features(store, params, scheme=scheme).to_pyarrow()
        return dict(
            zip(t.column("setl_id").to_pylist(), t.column("procedures").to_pylist(), strict=True)
        )

    assert procedures("chs-drg-1.1") == {"S1": "", "S2": REMOVED}
    assert procedures("liaocheng-2022") == {"S1": ADDED, "S2": ""}
