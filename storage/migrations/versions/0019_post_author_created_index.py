"""post: the author index also orders by time (author_id, created_at), replacing ix_post_author_id.

An author's posts newest first (the customer history) and "did they post after this one" (each
queue line) read the index alone instead of every post row of the author, sorted. One index still,
so storing a post costs no more than before.

Revision ID: 0019
Revises: 0018
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_post_author_created", "post", ["author_id", "created_at"])
    op.drop_index("ix_post_author_id", table_name="post")


def downgrade() -> None:
    op.create_index("ix_post_author_id", "post", ["author_id"])
    op.drop_index("ix_post_author_created", table_name="post")
