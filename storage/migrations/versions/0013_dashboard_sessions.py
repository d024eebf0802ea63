"""dashboardsession: logins that survive a browser reload (token hashes, never tokens).

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dangol.core.columns

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dashboardsession",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("created_at", dangol.core.columns.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", dangol.core.columns.UtcDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", dangol.core.columns.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_dashboardsession_staff_id", "dashboardsession", ["staff_id"])


def downgrade() -> None:
    op.drop_index("ix_dashboardsession_staff_id", table_name="dashboardsession")
    op.drop_table("dashboardsession")
