"""3103 answers live in the workflow database: kept across restarts, repeated overrides
reported, each answer in the audit log, one institution's answers only for a hospital user."""

from __future__ import annotations

from huiyan.review import auditlog

API = "/api/v1/3103"


def _warn(jr: str, rule: str, way: str = "1", stay: str = "M1") -> dict[str, str]:
    out = {"warn_rslt_id": jr, "dspo_way": way, "rule_id": rule, "mdtrt_id": stay}
    if way == "1":
        out["dspo_way_rea"] = "病情需要"
    return out


def _send(client, who: str, *warns: dict[str, str]):  # noqa: ANN001, ANN202
    body = {"data": {"warn_type": "1", "warns": list(warns)}}
    return client.post(API, json=body, headers=client.as_(who))


def test_feedback_is_stored_and_repeats_are_reported(client, app) -> None:  # noqa: ANN001
    first = _send(client, "hosp1", _warn("J1", "R1"), _warn("J2", "R2", way="2"))
    assert first.status_code == 200, first.text
    assert [r["repeated"] for r in first.json()["result"]] == [False, False]
    # Same stay, same rule, continued again -> reported; another stay or a modify is not.
    again = _send(
        client, "hosp1", _warn("J3", "R1"), _warn("J4", "R1", stay="M9"), _warn("J5", "R2")
    )
    assert [r["repeated"] for r in again.json()["result"]] == [True, False, False]
    assert "已报告稽核人员" in again.json()["result"][0]["text"]
    # Two continues of one rule in one message: the second is already a repeat.
    both = _send(client, "hosp1", _warn("J6", "R7", stay="M2"), _warn("J7", "R7", stay="M2"))
    assert [r["repeated"] for r in both.json()["result"]] == [False, True]
    _send(client, "hosp2", _warn("K1", "R1"))

    seen = client.get(API, headers=client.as_("aud1")).json()["result"]
    assert [(r["warn_rslt_id"], r["repeated"]) for r in seen] == [
        ("J1", False),
        ("J2", False),
        ("J3", True),
        ("J4", False),
        ("J5", False),
        ("J6", False),
        ("J7", True),
        ("K1", False),
    ]
    assert {r["user"] for r in seen} == {"hosp1", "hosp2"}
    own = client.get(API, headers=client.as_("hosp2")).json()["result"]
    assert [r["warn_rslt_id"] for r in own] == ["K1"]
    assert client.get(API, headers=client.as_("boss")).status_code == 403

    with app.state.read_session() as s:
        logged = [e.object_id for e in auditlog.entries(s) if e.action == "realtime_feedback"]
        assert auditlog.verify(s).ok
    assert logged == ["J1", "J2", "J3", "J4", "J5", "J6", "J7", "K1"]


def test_feedback_survives_a_restart(settings, client) -> None:  # noqa: ANN001
    from fastapi.testclient import TestClient

    from huiyan.service.app import create_app

    assert _send(client, "hosp1", _warn("J1", "R1")).status_code == 200
    second = create_app(settings)
    try:
        with TestClient(second) as c2:
            token = client.as_("hosp1")
            body = {"data": {"warn_type": "1", "warns": [_warn("J2", "R1")]}}
            r = c2.post(API, json=body, headers=token)
            assert r.status_code == 200, r.text
            assert r.json()["result"][0]["repeated"] is True
    finally:
        second.state.store.close()
        second.state.engine.dispose()


def test_issued_warnings_stay_bounded() -> None:
    from huiyan.service.realtime.router import IssuedWarnings

    issued = IssuedWarnings(capacity=3)
    for i in range(5):
        issued.add(f"J{i}", {"rule_id": f"R{i}"})
    issued.add("J2", {"rule_id": "R2"})  # answered again: now the newest
    issued.add("J5", {"rule_id": "R5"})
    assert len(issued) == 3
    assert [issued.get(j) is not None for j in ("J0", "J1", "J2", "J3", "J4", "J5")] == [
        False,
        False,
        True,
        False,
        True,
        True,
    ]
    assert issued.get(None) is None and issued.get(["J2"]) is None
