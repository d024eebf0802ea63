"""Analysis.intent: complaint, question, praise, suggestion or other (nlp/intent.py).

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("analysis") as batch:
        batch.add_column(sa.Column("intent", sa.String(), nullable=False, server_default="other"))
    # Posts analyzed before intent existed: their complaint and question flags say the most.
    op.execute("UPDATE analysis SET intent = 'complaint' WHERE is_complaint")
    op.execute("UPDATE analysis SET intent = 'question' WHERE is_question AND NOT is_complaint")


def downgrade() -> None:
    with op.batch_alter_table("analysis") as batch:
        batch.drop_column("intent")
