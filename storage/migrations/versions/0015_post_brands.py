"""Post.competitor and post_brand: the brands ([brands]) each post is about, for share of voice.

Posts stored before this have no post_brand rows; the reports count them for the own brand.

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD/DROP COLUMN (SQLite has both), not a batch copy: rebuilding the post table would
    # rewrite every post, and on the way down fail on the rows that reference it.
    op.add_column("post", sa.Column("competitor", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "post_brand",
        sa.Column("post_id", sa.Integer(), sa.ForeignKey("post.id"), primary_key=True),
        sa.Column("brand", sa.String(), primary_key=True),
    )
    op.create_index("ix_post_brand_brand", "post_brand", ["brand"])


def downgrade() -> None:
    op.drop_index("ix_post_brand_brand", table_name="post_brand")
    op.drop_table("post_brand")
    op.drop_column("post", "competitor")
