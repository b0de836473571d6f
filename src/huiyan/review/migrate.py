"""Schema migrations (Alembic, scripts in ``migrations/``), run programmatically."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("huiyan.review") / "migrations"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the workflow database to ``revision`` (creates all tables on an empty database)."""
    cfg = _config()
    # Several worker processes start at once: the first migrates, the others then find the
    # database at head. A write transaction serialises them on SQLite; an advisory lock on
    # PostgreSQL.
    with engine.execution_options(huiyan_write=True).begin() as conn:
        lock(conn)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def lock(conn: Connection, key: int = 0x6875_6979) -> None:
    """Serialise this transaction with others taking the same lock (PostgreSQL only; SQLite
    write transactions are serialised already)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({int(key)})")


def revision(engine: Engine, message: str) -> None:
    """Write a new migration by comparing the models with the database (developers only)."""
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True)
