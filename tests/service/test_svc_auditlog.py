"""The audit log's hash chain: any edit, deletion or truncation is detected (API and CLI)."""

from __future__ import annotations

from sqlalchemy import delete, select, text, update
from tests.service.conftest import item_ids
from typer.testing import CliRunner

from huiyan.cli.main import app as cli
from huiyan.review import auditlog
from huiyan.review.db import AuditEntry, make_engine, session_factory
from huiyan.review.migrate import upgrade

API = "/api/v1"


def _events(client) -> None:
    ids = item_ids(client)
    aud1 = client.as_("aud1")
    client.post(f"{API}/reviews/{ids['J1']}/initial", json={"outcome": "confirmed"}, headers=aud1)
    client.post(f"{API}/reviews/{ids['J2']}/initial", json={"outcome": "dismissed"}, headers=aud1)
    client.get(f"{API}/outputs/export.csv", headers=aud1)


def test_state_changes_logins_exports_are_logged_and_verify(client, app) -> None:
    _events(client)
    with app.state.read_session() as s:
        actions = [e.action for e in auditlog.entries(s)]
        assert auditlog.verify(s).ok
    for a in ("user_add", "import_findings", "login", "initial_review", "export"):
        assert a in actions


def test_editing_one_row_is_detected(client, app, settings) -> None:
    _events(client)
    with app.state.write_session() as s:
        seq = s.scalars(select(AuditEntry.seq).where(AuditEntry.action == "initial_review")).first()
        s.execute(
            update(AuditEntry)
            .where(AuditEntry.seq == seq)
            .values(detail='{"outcome": "dismissed"}')
        )
        s.commit()
    r = client.get(f"{API}/admin/audit-log/verify", headers=client.as_("admin")).json()
    assert r["ok"] is False and r["first_bad_seq"] == seq
    out = CliRunner().invoke(cli, ["audit-log", "verify", "--state", settings.state])
    assert out.exit_code == 1 and f"第 {seq} 条" in out.output


def test_deleting_rows_or_the_tail_is_detected(state_url) -> None:
    engine = make_engine(state_url)
    upgrade(engine)
    make = session_factory(engine, write=True)
    with make() as s:
        for i in range(5):
            auditlog.append(s, actor="a", action="x", object_id=i)
        s.commit()
    with make() as s:
        assert auditlog.verify(s).ok
        s.execute(delete(AuditEntry).where(AuditEntry.seq == 5))
        s.commit()
    with make() as s:
        v = auditlog.verify(s)
        assert not v.ok and "末尾" in v.reason
        s.execute(delete(AuditEntry).where(AuditEntry.seq == 2))
        s.commit()
    with make() as s:
        v = auditlog.verify(s)
        assert not v.ok and v.first_bad_seq == 3
    engine.dispose()


def test_cli_users_add_and_verify(tmp_path) -> None:
    state = str(tmp_path / "s.sqlite")
    r = CliRunner().invoke(
        cli,
        ["users", "add", "boss", "--role", "viewer", "--state", state],
        env={"HUIYAN_PASSWORD": "long-enough-1"},
    )
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(
        cli,
        ["users", "add", "boss", "--role", "viewer", "--state", state],
        env={"HUIYAN_PASSWORD": "long-enough-1"},
    )
    assert r.exit_code == 2 and "已存在" in r.output
    r = CliRunner().invoke(
        cli,
        ["users", "add", "h", "--role", "hospital", "--state", state],
        env={"HUIYAN_PASSWORD": "long-enough-1"},
    )
    assert r.exit_code == 2 and "medins_code" in r.output
    r = CliRunner().invoke(cli, ["users", "list", "--state", state])
    assert "boss" in r.output and "领导" in r.output
    r = CliRunner().invoke(cli, ["audit-log", "verify", "--state", state])
    assert r.exit_code == 0 and "校验通过" in r.output
    engine = make_engine(state)
    with engine.begin() as c:
        c.execute(text("update audit_log set actor = 'mallory'"))
    engine.dispose()
    assert CliRunner().invoke(cli, ["audit-log", "verify", "--state", state]).exit_code == 1


def test_migrations_match_the_models(state_url) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from huiyan.review.db import Base

    engine = make_engine(state_url)
    upgrade(engine)
    with engine.connect() as c:
        diff = compare_metadata(MigrationContext.configure(c), Base.metadata)
    engine.dispose()
    assert diff == []
