"""sealed exports: the server's key, imported notes' author names

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 00:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "serverkey",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("note", schema=None) as batch_op:
        batch_op.add_column(sa.Column("author_name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("note", schema=None) as batch_op:
        batch_op.drop_column("author_name")
    op.drop_table("serverkey")
