"""orchestration: stack snapshots

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-04 13:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('orchestration_snapshot',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('stack_id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orchestration_snapshot'))
    )
    op.create_index(op.f('ix_orchestration_snapshot_project_id'), 'orchestration_snapshot', ['project_id'], unique=False)
    op.create_index(op.f('ix_orchestration_snapshot_stack_id'), 'orchestration_snapshot', ['stack_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_orchestration_snapshot_stack_id'), table_name='orchestration_snapshot')
    op.drop_index(op.f('ix_orchestration_snapshot_project_id'), table_name='orchestration_snapshot')
    op.drop_table('orchestration_snapshot')
