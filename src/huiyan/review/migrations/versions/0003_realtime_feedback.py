"""doctors' 3103 answers to real-time warnings are kept in the workflow database

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 14:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "realtime_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("warn_rslt_id", sa.String(length=64), nullable=False),
        sa.Column("rule_id", sa.String(length=32), nullable=True),
        sa.Column("setl_id", sa.String(length=64), nullable=True),
        sa.Column("medins_code", sa.String(length=32), nullable=True),
        sa.Column("dspo_way", sa.String(length=1), nullable=False),
        sa.Column("dspo_way_rea", sa.Text(), nullable=True),
        sa.Column("warn_type", sa.String(length=8), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("repeated", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_realtime_feedback_stay_rule",
        "realtime_feedback",
        ["medins_code", "setl_id", "rule_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_realtime_feedback_stay_rule", table_name="realtime_feedback")
    op.drop_table("realtime_feedback")
