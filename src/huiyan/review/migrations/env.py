"""Alembic environment: run by ``huiyan.review.migrate.upgrade`` with a connection attached."""

from __future__ import annotations

from alembic import context

from huiyan.review.db import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
