"""Service settings (environment variables ``HUIYAN_*`` or ``huiyan serve`` options)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from huiyan.engine import DEFAULT_STORE
from huiyan.review.db import DEFAULT_STATE


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUIYAN_", extra="ignore")

    # The workflow database: a SQLite file path or a SQLAlchemy URL (postgresql://...).
    state: str = DEFAULT_STATE
    # The analytic store the pipeline writes; the service reads published snapshots of it.
    db: Path = Path(DEFAULT_STORE)
    snapshot_dir: Path | None = None  # default: <db>.snapshots next to the store
    snapshot_poll_seconds: float = 5.0
    attachment_dir: Path = Path("huiyan-attachments")
    policy_file: Path | None = None  # a workflow.yaml overriding the packaged policy
    token_hours: float = 12.0
    cookie_secure: bool = False
    login_max_failures: int = 5  # per user name within the window
    # per client address within the window: one address guessing across many user names
    login_max_failures_per_ip: int = 20
    login_window_minutes: int = 15
    token_cache_seconds: float = 30.0
    migrate: bool = True  # run Alembic migrations at start-up

    def snapshots(self) -> Path:
        return self.snapshot_dir or self.db.with_name(self.db.name + ".snapshots")
