"""Reply.attempted_at / attempted_by: when and in which process ("host:pid") the latest send attempt began.

A reply "sending" whose attempt began a moment ago, in a process still alive, is still being sent:
sending it again then would settle it as failed under the running attempt (and a third try could
post it twice).

Revision ID: 0020
Revises: 0019
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dangol.core.columns

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reply") as batch:
        batch.add_column(sa.Column("attempted_at", dangol.core.columns.UtcDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("attempted_by", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reply") as batch:
        batch.drop_column("attempted_by")
        batch.drop_column("attempted_at")
