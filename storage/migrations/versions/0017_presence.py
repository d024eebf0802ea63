"""presence: who has a queue item open in the dashboard, and who is typing a reply (no content).

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dangol.core.columns

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "presence",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("updated_at", dangol.core.columns.UtcDateTime(timezone=True), nullable=False),
        # Presence is about a person and an item: it goes with either.
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["item_id"], ["queueitem.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("staff_id", "item_id"),
    )
    op.create_index("ix_presence_item_id", "presence", ["item_id"])
    op.create_index("ix_presence_updated_at", "presence", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_presence_updated_at", table_name="presence")
    op.drop_index("ix_presence_item_id", table_name="presence")
    op.drop_table("presence")
