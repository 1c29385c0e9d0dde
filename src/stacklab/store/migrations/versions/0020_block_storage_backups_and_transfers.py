"""block storage: backups and volume transfers

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('block_storage_backup',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.String(length=255), nullable=True),
    sa.Column('volume_id', sa.String(length=36), nullable=False),
    sa.Column('snapshot_id', sa.String(length=36), nullable=True),
    sa.Column('parent_id', sa.String(length=36), nullable=True),
    sa.Column('restore_volume_id', sa.String(length=36), nullable=True),
    sa.Column('host', sa.String(length=255), nullable=True),
    sa.Column('availability_zone', sa.String(length=255), nullable=True),
    sa.Column('container', sa.String(length=255), nullable=True),
    sa.Column('service', sa.String(length=255), nullable=True),
    sa.Column('service_metadata', sa.String(length=255), nullable=True),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('description', sa.String(length=255), nullable=True),
    sa.Column('status', sa.String(length=255), nullable=False),
    sa.Column('fail_reason', sa.String(length=255), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('object_count', sa.Integer(), nullable=False),
    sa.Column('num_dependent_backups', sa.Integer(), nullable=False),
    sa.Column('metadata', sa.JSON(), nullable=False),
    sa.Column('data_timestamp', sa.Float(), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_block_storage_backup'))
    )
    op.create_index(op.f('ix_block_storage_backup_project_id'), 'block_storage_backup',
                    ['project_id'], unique=False)
    op.create_index(op.f('ix_block_storage_backup_volume_id'), 'block_storage_backup',
                    ['volume_id'], unique=False)
    op.create_table('block_storage_transfer',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('volume_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('salt', sa.String(length=255), nullable=False),
    sa.Column('crypt_hash', sa.String(length=255), nullable=False),
    sa.Column('source_project_id', sa.String(length=255), nullable=False),
    sa.Column('destination_project_id', sa.String(length=255), nullable=True),
    sa.Column('accepted', sa.Boolean(), nullable=False),
    sa.Column('no_snapshots', sa.Boolean(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_block_storage_transfer'))
    )
    op.create_index(op.f('ix_block_storage_transfer_volume_id'), 'block_storage_transfer',
                    ['volume_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_block_storage_transfer_volume_id'),
                  table_name='block_storage_transfer')
    op.drop_table('block_storage_transfer')
    op.drop_index(op.f('ix_block_storage_backup_volume_id'), table_name='block_storage_backup')
    op.drop_index(op.f('ix_block_storage_backup_project_id'), table_name='block_storage_backup')
    op.drop_table('block_storage_backup')
