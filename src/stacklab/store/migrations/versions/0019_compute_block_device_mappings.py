"""compute block device mappings

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('compute_block_device_mapping',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('instance_uuid', sa.String(length=36), nullable=False),
    sa.Column('source_type', sa.String(length=255), nullable=False),
    sa.Column('destination_type', sa.String(length=255), nullable=False),
    sa.Column('boot_index', sa.Integer(), nullable=True),
    sa.Column('device_name', sa.String(length=255), nullable=True),
    sa.Column('volume_id', sa.String(length=36), nullable=True),
    sa.Column('snapshot_id', sa.String(length=36), nullable=True),
    sa.Column('image_id', sa.String(length=36), nullable=True),
    sa.Column('volume_size', sa.Integer(), nullable=True),
    sa.Column('volume_type', sa.String(length=255), nullable=True),
    sa.Column('attachment_id', sa.String(length=36), nullable=True),
    sa.Column('delete_on_termination', sa.Boolean(), nullable=False),
    sa.Column('tag', sa.String(length=255), nullable=True),
    sa.Column('guest_format', sa.String(length=255), nullable=True),
    sa.Column('disk_bus', sa.String(length=255), nullable=True),
    sa.Column('device_type', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compute_block_device_mapping')),
    sa.UniqueConstraint('uuid', name=op.f('uq_compute_block_device_mapping_uuid'))
    )
    op.create_index(op.f('ix_compute_block_device_mapping_instance_uuid'),
                    'compute_block_device_mapping', ['instance_uuid'], unique=False)
    op.create_index(op.f('ix_compute_block_device_mapping_volume_id'),
                    'compute_block_device_mapping', ['volume_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_compute_block_device_mapping_volume_id'),
                  table_name='compute_block_device_mapping')
    op.drop_index(op.f('ix_compute_block_device_mapping_instance_uuid'),
                  table_name='compute_block_device_mapping')
    op.drop_table('compute_block_device_mapping')
