"""block storage: quota classes

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('block_storage_quota_class',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('class_name', sa.String(length=255), nullable=False),
    sa.Column('resource', sa.String(length=255), nullable=False),
    sa.Column('hard_limit', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_block_storage_quota_class')),
    sa.UniqueConstraint('class_name', 'resource',
                        name=op.f('uq_block_storage_quota_class_class_name'))
    )
    op.create_index(op.f('ix_block_storage_quota_class_class_name'),
                    'block_storage_quota_class', ['class_name'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_block_storage_quota_class_class_name'),
                  table_name='block_storage_quota_class')
    op.drop_table('block_storage_quota_class')
