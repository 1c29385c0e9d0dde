"""lab: the faults in force, shared by the processes of one cloud

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-04 16:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stacklab_lab_state',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('faults', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stacklab_lab_state'))
    )


def downgrade() -> None:
    op.drop_table('stacklab_lab_state')
