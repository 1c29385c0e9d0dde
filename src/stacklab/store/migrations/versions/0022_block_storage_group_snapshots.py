"""block storage: group snapshots

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('block_storage_group_snapshot',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.String(length=255), nullable=True),
    sa.Column('group_id', sa.String(length=36), nullable=False),
    sa.Column('group_type_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('description', sa.String(length=255), nullable=True),
    sa.Column('status', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_block_storage_group_snapshot'))
    )
    op.create_index(op.f('ix_block_storage_group_snapshot_project_id'),
                    'block_storage_group_snapshot', ['project_id'], unique=False)
    op.create_index(op.f('ix_block_storage_group_snapshot_group_id'),
                    'block_storage_group_snapshot', ['group_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_block_storage_group_snapshot_group_id'),
                  table_name='block_storage_group_snapshot')
    op.drop_index(op.f('ix_block_storage_group_snapshot_project_id'),
                  table_name='block_storage_group_snapshot')
    op.drop_table('block_storage_group_snapshot')
