"""notification, notificationdelivery; staff availability, e-mail, webhook and notification preferences.

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dangol.core.columns

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = dangol.core.columns.UtcDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        # Everyone is available until they say otherwise, so an upgrade does not stop assignment.
        batch.add_column(sa.Column("available", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("available_since", UTC, nullable=True))
        batch.add_column(sa.Column("email", sa.String(length=320), nullable=True))
        batch.add_column(sa.Column("webhook_url", sa.Text(), nullable=True))
        # Existing rows get the empty mapping (every kind on every channel they give an address for).
        batch.add_column(sa.Column("notify_channels", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        batch.add_column(sa.Column("quiet_start", sa.String(length=5), nullable=True))
        batch.add_column(sa.Column("quiet_end", sa.String(length=5), nullable=True))
        batch.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("event", sa.String(length=120), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("read_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(["recipient_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("recipient_id", "kind", "subject", "event"),
    )
    op.create_index("ix_notification_inbox", "notification", ["recipient_id", "read_at"])
    op.create_table(
        "notificationdelivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("not_before", UTC, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", UTC, nullable=True),
        sa.Column("given_up_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(["notification_id"], ["notification.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("notification_id", "channel"),
    )
    op.create_index("ix_notificationdelivery_notification_id", "notificationdelivery", ["notification_id"])
    op.create_index("ix_notificationdelivery_pending", "notificationdelivery", ["delivered_at", "not_before"])


def downgrade() -> None:
    op.drop_index("ix_notificationdelivery_pending", table_name="notificationdelivery")
    op.drop_index("ix_notificationdelivery_notification_id", table_name="notificationdelivery")
    op.drop_table("notificationdelivery")
    op.drop_index("ix_notification_inbox", table_name="notification")
    op.drop_table("notification")
    with op.batch_alter_table("staff") as batch:
        for column in (
            "timezone", "quiet_end", "quiet_start", "notify_channels", "webhook_url", "email",
            "available_since", "available",
        ):  # fmt: skip
            batch.drop_column(column)
