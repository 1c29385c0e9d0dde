"""block storage: volumes, snapshots and quotas

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 17:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('block_storage_volume',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.String(length=255), nullable=True),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('description', sa.String(length=255), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=255), nullable=False),
    sa.Column('previous_status', sa.String(length=255), nullable=True),
    sa.Column('attach_status', sa.String(length=255), nullable=False),
    sa.Column('migration_status', sa.String(length=255), nullable=True),
    sa.Column('replication_status', sa.String(length=255), nullable=True),
    sa.Column('availability_zone', sa.String(length=255), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=True),
    sa.Column('service_uuid', sa.String(length=36), nullable=True),
    sa.Column('volume_type_id', sa.String(length=36), nullable=False),
    sa.Column('snapshot_id', sa.String(length=36), nullable=True),
    sa.Column('source_volid', sa.String(length=36), nullable=True),
    sa.Column('image_id', sa.String(length=36), nullable=True),
    sa.Column('bootable', sa.Boolean(), nullable=False),
    sa.Column('multiattach', sa.Boolean(), nullable=False),
    sa.Column('encryption_key_id', sa.String(length=36), nullable=True),
    sa.Column('group_id', sa.String(length=36), nullable=True),
    sa.Column('provider_id', sa.String(length=255), nullable=True),
    sa.Column('metadata', sa.JSON(), nullable=False),
    sa.Column('admin_metadata', sa.JSON(), nullable=False),
    sa.Column('image_metadata', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=True),
    sa.Column('launched_at', sa.Float(), nullable=True),
    sa.Column('terminated_at', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_block_storage_volume'))
    )
    op.create_index(op.f('ix_block_storage_volume_project_id'), 'block_storage_volume',
                    ['project_id'], unique=False)
    op.create_table('block_storage_snapshot',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.String(length=255), nullable=True),
    sa.Column('volume_id', sa.String(length=36), nullable=False),
    sa.Column('volume_size', sa.Integer(), nullable=False),
    sa.Column('volume_type_id', sa.String(length=36), nullable=True),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('description', sa.String(length=255), nullable=True),
    sa.Column('status', sa.String(length=255), nullable=False),
    sa.Column('progress', sa.String(length=255), nullable=True),
    sa.Column('group_snapshot_id', sa.String(length=36), nullable=True),
    sa.Column('provider_id', sa.String(length=255), nullable=True),
    sa.Column('metadata', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_block_storage_snapshot'))
    )
    op.create_index(op.f('ix_block_storage_snapshot_project_id'), 'block_storage_snapshot',
                    ['project_id'], unique=False)
    op.create_index(op.f('ix_block_storage_snapshot_volume_id'), 'block_storage_snapshot',
                    ['volume_id'], unique=False)
    op.create_table('block_storage_quota',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('resource', sa.String(length=255), nullable=False),
    sa.Column('hard_limit', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_block_storage_quota')),
    sa.UniqueConstraint('project_id', 'resource', name=op.f('uq_block_storage_quota_project_id'))
    )


def downgrade() -> None:
    op.drop_table('block_storage_quota')
    op.drop_index(op.f('ix_block_storage_snapshot_volume_id'), table_name='block_storage_snapshot')
    op.drop_index(op.f('ix_block_storage_snapshot_project_id'), table_name='block_storage_snapshot')
    op.drop_table('block_storage_snapshot')
    op.drop_index(op.f('ix_block_storage_volume_project_id'), table_name='block_storage_volume')
    op.drop_table('block_storage_volume')
