"""Rule quality: confirmation rates, flagging, demotion by configuration, back-testing."""

from __future__ import annotations

from sqlalchemy import select
from tests.service.conftest import finding
from typer.testing import CliRunner

from huiyan.cli.main import app as cli
from huiyan.review import workflow
from huiyan.review.backtest import compare
from huiyan.review.config import default_policy
from huiyan.review.db import ReviewItem, User, make_engine, session_factory
from huiyan.review.migrate import upgrade


def _setup(state_url: str):  # noqa: ANN202
    engine = make_engine(state_url)
    upgrade(engine)
    make = session_factory(engine, write=True)
    with make() as s:
        s.add(User(username="a", password_hash="x", role="auditor"))
        s.commit()
    return engine, make


def test_flagged_rule_is_demoted_when_configured(state_url) -> None:
    engine, make = _setup(state_url)
    policy = default_policy().model_copy(
        update={"demote_flagged_rules": True, "auto_confirm_violations": False}
    )
    with make() as s:
        user = s.scalars(select(User)).one()
        workflow.import_findings(
            s, [finding(f"V{i}", f"S{i}", "H1", rule="R-V", sev="1") for i in range(6)], policy
        )
        s.commit()
        for item in s.scalars(select(ReviewItem).order_by(ReviewItem.id)).all()[:5]:
            workflow.initial_review(s, user, item.id, outcome="dismissed", reason="R07")
        s.commit()
        q = {r["rule_id"]: r for r in workflow.rule_quality(s, policy)}
        assert q["R-V"]["reviewed"] == 5 and q["R-V"]["confirmation_rate"] == 0.0
        assert q["R-V"]["needs_revision"] is True
        on = policy.model_copy(update={"auto_confirm_violations": True})
        workflow.import_findings(
            s,
            [
                finding("V9", "S9", "H1", rule="R-V", sev="1"),
                finding("W1", "T1", "H1", rule="R-W", sev="1"),
            ],
            on,
        )
        s.commit()
        states = dict(
            s.execute(
                select(ReviewItem.jr_id, ReviewItem.state).where(ReviewItem.jr_id.in_(["V9", "W1"]))
            ).all()
        )
    # the flagged rule's new 明确违规 finding waits for a reviewer; a healthy rule's is auto-confirmed
    assert states == {"V9": "pending", "W1": "reviewed"}
    engine.dispose()


def test_backtest_compares_hits_with_decisions(state_url) -> None:
    engine, make = _setup(state_url)
    policy = default_policy().model_copy(update={"auto_confirm_violations": False})
    with make() as s:
        user = s.scalars(select(User)).one()
        rows = [
            finding("A1", "S1", "H1", rule="R-OLD"),
            finding("A2", "S2", "H1", rule="R-OLD"),
            finding("A3", "S3", "H1", rule="R-X"),
            finding("A4", "S4", "H1", rule="R-OLD"),
        ]
        workflow.import_findings(s, rows, policy)
        s.commit()
        ids = dict(s.execute(select(ReviewItem.jr_id, ReviewItem.id)).all())
        workflow.initial_review(s, user, ids["A1"], outcome="confirmed")
        workflow.initial_review(s, user, ids["A2"], outcome="dismissed")
        workflow.initial_review(s, user, ids["A3"], outcome="dismissed")
        workflow.initial_review(s, user, ids["A4"], outcome="confirmed")
        s.commit()
        for jr in (
            "A1",
            "A4",
        ):  # confirmed items become final once the hospital is notified and accepts
            item = s.get(ReviewItem, ids[jr])
            workflow._finalise(item, "confirmed", item.vola_amt_fen, user.id, None, None)
        s.commit()
        hits = [
            {"setl_id": "S1", "vola_amt": "90"},
            {"setl_id": "S2", "vola_amt": "10"},
            {"setl_id": "S3", "vola_amt": "5"},
            {"setl_id": "S7", "vola_amt": "1"},
        ]
        r = compare(s, "R-OLD", hits)
    assert (r["hits"], r["on_confirmed_cases"], r["on_dismissed_cases"], r["unreviewed"]) == (
        4,
        1,
        2,
        1,
    )
    assert r["precision_on_reviewed"] == round(1 / 3, 4)
    assert r["amount_on_confirmed"] == "90.00" and r["amount_on_dismissed"] == "15.00"
    assert r["previously_confirmed_cases"] == 2 and r["missed_setl_ids"] == ["S4"]
    engine.dispose()


def test_backtest_cli_names_a_missing_store(tmp_path) -> None:
    out = CliRunner().invoke(
        cli,
        [
            "backtest",
            "R-1",
            "--db",
            str(tmp_path / "none.duckdb"),
            "--state",
            str(tmp_path / "s.sqlite"),
        ],
    )
    assert out.exit_code == 2 and "不存在" in out.output
