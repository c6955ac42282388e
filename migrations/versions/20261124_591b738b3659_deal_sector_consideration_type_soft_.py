"""deal sector, consideration type, soft delete, revision

Revision ID: 591b738b3659
Revises: cd67767bec71
Create Date: 2026-11-24 22:18:32.012911
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "591b738b3659"
down_revision: str | None = "cd67767bec71"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sector", sa.String(length=80), nullable=True))

    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consideration_type", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("revision", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.drop_column("revision")
        batch_op.drop_column("deleted_at")
        batch_op.drop_column("consideration_type")

    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.drop_column("sector")
