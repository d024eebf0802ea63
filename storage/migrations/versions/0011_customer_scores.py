"""Customer scores (activity, mood, service, reach, value) with their breakdown, current segment
membership, and the history of customers joining and leaving segments.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dangol.core.columns

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customerscore",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("computed_at", dangol.core.columns.UtcDateTime(timezone=True), nullable=False),
        sa.Column("activity", sa.Float(), nullable=False),
        sa.Column("mood", sa.Float(), nullable=False),
        sa.Column("service", sa.Float(), nullable=False),
        sa.Column("reach", sa.Float(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("trend", sa.String(), nullable=False),
        sa.Column("segments", sa.JSON(), nullable=False),
        sa.Column("breakdown", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"]),
        sa.PrimaryKeyConstraint("customer_id"),
    )
    op.create_table(
        "customersegment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("segment", sa.String(), nullable=False),
        sa.Column("since", dangol.core.columns.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("segment", "customer_id"),
    )
    op.create_index("ix_customersegment_customer_id", "customersegment", ["customer_id"])
    op.create_table(
        "customersegmentchange",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("segment", sa.String(), nullable=False),
        sa.Column("change", sa.String(), nullable=False),
        sa.Column("at", dangol.core.columns.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_customersegmentchange_customer_id", "customersegmentchange", ["customer_id"])
    op.create_index("ix_customersegmentchange_segment_at", "customersegmentchange", ["segment", "at"])


def downgrade() -> None:
    op.drop_table("customersegmentchange")
    op.drop_table("customersegment")
    op.drop_table("customerscore")
