"""Schema migrations (Alembic, scripts in ``migrations/``), run programmatically."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("huiyan.review") / "migrations"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the workflow database to ``revision`` (creates all tables on an empty database)."""
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def revision(engine: Engine, message: str) -> None:
    """Write a new migration by comparing the models with the database (developers only)."""
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True)
