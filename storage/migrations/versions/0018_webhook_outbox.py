"""webhookoutbox: outbound webhook deliveries, one row per item event and subscription.

Revision ID: 0018
Revises: 0017
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dangol.core.columns

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = dangol.core.columns.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "webhookoutbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", UTC, nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("not_before", UTC, nullable=True),
        sa.Column("claimed_until", UTC, nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", UTC, nullable=True),
        sa.Column("given_up_at", UTC, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subscription", "event_id"),
    )
    op.create_index("ix_webhookoutbox_item_id", "webhookoutbox", ["item_id"])
    op.create_index("ix_webhookoutbox_occurred_at", "webhookoutbox", ["occurred_at"])
    op.create_index("ix_webhookoutbox_pending", "webhookoutbox", ["delivered_at", "given_up_at", "not_before"])


def downgrade() -> None:
    op.drop_index("ix_webhookoutbox_pending", table_name="webhookoutbox")
    op.drop_index("ix_webhookoutbox_occurred_at", table_name="webhookoutbox")
    op.drop_index("ix_webhookoutbox_item_id", table_name="webhookoutbox")
    op.drop_table("webhookoutbox")
