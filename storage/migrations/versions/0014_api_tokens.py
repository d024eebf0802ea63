"""apitoken: personal API tokens for `dangol api` (token hashes, never tokens).

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dangol.core.columns

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "apitoken",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", dangol.core.columns.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", dangol.core.columns.UtcDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", dangol.core.columns.UtcDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", dangol.core.columns.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_apitoken_staff_id", "apitoken", ["staff_id"])


def downgrade() -> None:
    op.drop_index("ix_apitoken_staff_id", table_name="apitoken")
    op.drop_table("apitoken")
