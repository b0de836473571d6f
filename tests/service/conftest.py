"""Service fixtures: a workflow database on each backend, a small store, an app, users.

``state_url`` is parametrised over SQLite and PostgreSQL. PostgreSQL comes from
``HUIYAN_TEST_DATABASE_URL`` (CI always sets it), else from the server at 127.0.0.1:5432 when one
answers there; each test gets its own schema.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from sqlalchemy import create_engine, text

from huiyan.engine import Store
from huiyan.model import table

PG_ENV = "HUIYAN_TEST_DATABASE_URL"
PASSWORD = "correct-horse-9"


# The server a machine of the reference kind runs (trust auth, database ``test``), used when
# PG_ENV is not set: `make test` on such a machine then runs the PostgreSQL variants too.
LOCAL_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@functools.cache
def _pg_url() -> str | None:
    url = os.environ.get(PG_ENV)
    if url and url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url:
        return url
    probe = create_engine(LOCAL_PG, connect_args={"connect_timeout": 2})
    try:
        with probe.connect() as c:
            c.execute(text("select 1"))
    except Exception:  # no server there: the variants are skipped outside CI
        return None
    finally:
        probe.dispose()
    return LOCAL_PG


@pytest.fixture(params=["sqlite", "postgresql"])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty workflow database URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.sqlite'}"
        return
    base = _pg_url()
    if not base:
        if os.environ.get("CI"):
            pytest.fail(f"{PG_ENV} must be set in CI")
        pytest.skip(f"{PG_ENV} not set and no server at {LOCAL_PG} (CI always sets it)")
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def finding(
    jr_id: str,
    setl_id: str,
    medins: str,
    *,
    rule: str = "R-A",
    sev: str = "2",
    amt: str = "100.00",
    detail: str | None = None,
    psn_no: str = "P001",
) -> dict[str, Any]:
    return {
        "jr_id": jr_id,
        "rule_id": rule,
        "rule_name": f"规则{rule}",
        "vola_bhvr_type": "OVERTREAT",
        "sev_deg": sev,
        "setl_id": setl_id,
        "mdtrt_id": "M" + setl_id,
        "psn_no": psn_no,
        "medins_code": medins,
        "vola_amt": Decimal(amt),
        "vola_cont": f"{setl_id} 联系电话13812345678 重复收费",
        "vola_evid": "《医疗保障基金使用监督管理条例》",
        "detail": detail,
        "stage": "post",
    }


def write_table(store: Store, name: str, rows: list[dict[str, Any]]) -> None:
    t = table(name)
    cols = {c: pa.array([r.get(c) for r in rows], t.schema.field(c).type) for c in t.columns}
    store.write(name, pa.table(cols))


def settlement_row(setl_id: str, medins: str, psn_no: str = "P001") -> dict[str, Any]:
    return {
        "setl_id": setl_id,
        "medins_code": medins,
        "psn_no": psn_no,
        "psn_name": "张三丰",
        "certno": "110101199001011234",
        "mdtrt_id": "M" + setl_id,
    }


FINDINGS = [
    finding("J1", "S1", "H1", amt="300.00"),
    finding("J2", "S2", "H1", amt="200.00"),
    finding("J3", "S3", "H1", rule="R-V", sev="1", amt="50.00"),
    finding("J4", "S4", "H2", amt="80.00"),
    finding("J5", "S5", "H2", rule="R-B", amt="120.00"),
]


def make_store(path: Path, findings: list[dict[str, Any]]) -> Path:
    """A store at ``path`` holding ``findings`` and a settlement for each."""
    with Store(path) as s:
        write_table(s, "finding", findings)
        write_table(
            s, "setl_list", [settlement_row(f["setl_id"], f["medins_code"]) for f in findings]
        )
    return path


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return make_store(tmp_path / "store.duckdb", FINDINGS)


@pytest.fixture
def settings(tmp_path: Path, state_url: str, store_path: Path):  # noqa: ANN201
    from huiyan.service.settings import Settings

    return Settings(
        state=state_url,
        db=store_path,
        attachment_dir=tmp_path / "att",
        snapshot_poll_seconds=0,
        token_cache_seconds=0,
    )


@pytest.fixture
def app(settings):  # noqa: ANN001, ANN201
    from huiyan.service.app import create_app

    app = create_app(settings)
    yield app
    app.state.store.close()
    app.state.engine.dispose()


USERS = {
    "admin": ("admin", None),
    "aud1": ("auditor", None),
    "aud2": ("auditor", None),
    "exp1": ("expert", "H2"),
    "exp2": ("expert", "H3"),
    "exp3": ("expert", "H4"),
    "exp_h1": ("expert", "H1"),
    "hosp1": ("hospital", "H1"),
    "hosp2": ("hospital", "H2"),
    "boss": ("viewer", None),
}


@pytest.fixture(scope="session")
def password_hash() -> str:
    from huiyan.review.passwords import hash_password

    return hash_password(PASSWORD)


@pytest.fixture
def client(app, password_hash, monkeypatch):  # noqa: ANN001, ANN201
    """A TestClient with all ``USERS`` created; ``client.as_(name)`` gives auth headers."""
    from fastapi.testclient import TestClient

    from huiyan.review import users

    # Hash the shared test password once (Argon2 is slow by design); logins verify it for real.
    with monkeypatch.context() as m:
        m.setattr(users, "hash_password", lambda _p: password_hash)
        with app.state.write_session() as s:
            for name, (role, code) in USERS.items():
                users.add_user(
                    s,
                    username=name,
                    password=PASSWORD,
                    role=role,
                    medins_code=code,
                    can_see_personal=name == "aud2",
                )
            s.commit()
    with TestClient(app) as c:
        tokens: dict[str, dict[str, str]] = {}

        def as_(name: str) -> dict[str, str]:
            if name not in tokens:
                r = c.post("/api/v1/auth/token", json={"username": name, "password": PASSWORD})
                assert r.status_code == 200, r.text
                tokens[name] = {"Authorization": f"Bearer {r.json()['access_token']}"}
            return tokens[name]

        c.as_ = as_  # type: ignore[attr-defined]
        yield c


def item_ids(client, who: str = "aud1") -> dict[str, int]:  # noqa: ANN001
    r = client.get("/api/v1/reviews", params={"limit": 500}, headers=client.as_(who))
    assert r.status_code == 200, r.text
    return {i["jr_id"]: i["id"] for i in r.json()["items"]}
