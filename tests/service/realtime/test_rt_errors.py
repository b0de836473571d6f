"""Malformed 3101 messages get the 3101 error shape (infcode -1, paths named), never a 500."""

from __future__ import annotations

import json

import pytest

GOOD_ENC = {
    "mdtrt_id": "M1",
    "medins_id": "H1",
    "adm_date": "2024-03-01 08:00:00",
    "fsi_diagnose_dtos": [{"dise_codg": "J18.900", "maindise_flag": "1"}],
    "fsi_order_dtos": [
        {
            "rx_id": "1",
            "hilist_code": "X",
            "cnt": 1,
            "pric": 10,
            "sumamt": 10,
            "drord_begn_date": "2024-03-01 09:00:00",
        }
    ],
}


def body(enc: dict) -> dict:
    return {"data": {"patient_dtos": [{"patn_id": "P1", "fsi_encounter_dtos": [enc]}]}}


def _check(r, status: int, path: str) -> None:  # noqa: ANN001
    assert r.status_code == status, r.text
    out = r.json()
    assert out["infcode"] == -1 and out["result"] == []
    assert any(e["path"].endswith(path) for e in out["errors"]), out


@pytest.mark.parametrize("state_url", ["sqlite"], indirect=True)
def test_errors_in_3101_shape(client) -> None:  # noqa: ANN001
    h = client.as_("hosp1")
    missing = {k: v for k, v in GOOD_ENC.items() if k != "adm_date"}
    _check(client.post("/api/v1/3101", json=body(missing), headers=h), 400, "adm_date")
    wrong = {**GOOD_ENC, "fsi_order_dtos": [{**GOOD_ENC["fsi_order_dtos"][0], "cnt": "abc"}]}
    _check(client.post("/api/v1/3101", json=body(wrong), headers=h), 400, "cnt")
    notlist = {**GOOD_ENC, "fsi_diagnose_dtos": {"dise_codg": "x"}}
    _check(client.post("/api/v1/3101", json=body(notlist), headers=h), 400, "fsi_diagnose_dtos")
    _check(client.post("/api/v1/3101", json={"data": 5}, headers=h), 400, "data")
    r = client.post(
        "/api/v1/3101", content=b"{not json", headers={**h, "content-type": "application/json"}
    )
    _check(r, 400, "$")
    big = json.dumps(body({**GOOD_ENC, "pad": "x" * 3_000_000}))
    r = client.post("/api/v1/3101", content=big, headers={**h, "content-type": "application/json"})
    _check(r, 413, "$")
    many = {**GOOD_ENC, "fsi_order_dtos": GOOD_ENC["fsi_order_dtos"] * 6000}
    _check(client.post("/api/v1/3101", json=body(many), headers=h), 413, "data")
    other = {**GOOD_ENC, "medins_id": "H2"}
    _check(client.post("/api/v1/3101", json=body(other), headers=h), 403, "medins_id")
    _check(client.post("/api/v1/3103", json={"data": {"warns": []}}, headers=h), 400, "warns")
    bad_fb = {"data": {"warns": [{"warn_rslt_id": "a", "dspo_way": "1"}]}}
    _check(client.post("/api/v1/3103", json=bad_fb, headers=h), 400, "dspo_way_rea")


@pytest.mark.parametrize("state_url", ["sqlite"], indirect=True)
def test_repeated_continue_reported(client) -> None:  # noqa: ANN001
    h = client.as_("hosp1")
    warn = {
        "warn_rslt_id": "J1",
        "dspo_way": "1",
        "dspo_way_rea": "病情需要",
        "rule_id": "R1",
        "mdtrt_id": "M1",
    }
    first = client.post(
        "/api/v1/3103", json={"data": {"warn_type": "1", "warns": [warn]}}, headers=h
    )
    assert first.status_code == 200 and first.json()["result"][0]["repeated"] is False
    again = client.post(
        "/api/v1/3103", json={"data": {"warn_type": "1", "warns": [warn]}}, headers=h
    )
    assert again.json()["result"][0]["repeated"] is True
    seen = client.get("/api/v1/3103", headers=client.as_("aud1")).json()["result"]
    assert [r["repeated"] for r in seen] == [False, True]
    assert client.get("/api/v1/3103", headers=client.as_("hosp2")).json()["result"] == []


@pytest.mark.parametrize("state_url", ["sqlite"], indirect=True)
def test_unknown_codes_named(client) -> None:  # noqa: ANN001
    h = client.as_("hosp1")
    enc = {**GOOD_ENC, "fsi_diagnose_dtos": [{"dise_codg": "ZZ9.999", "maindise_flag": "1"}]}
    r = client.post("/api/v1/3101", json=body(enc), headers=h)
    _check(r, 422, "dise_codg")
    msgs = {e["path"]: e["msg"] for e in r.json()["errors"]}
    assert "未知的诊断编码: ZZ9.999" in msgs.values()
    assert "未知的医保目录编码: X" in msgs.values()
