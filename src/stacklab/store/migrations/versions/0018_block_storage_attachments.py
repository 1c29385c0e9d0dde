"""block storage: volume attachments

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('block_storage_volume_attachment',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('volume_id', sa.String(length=36), nullable=False),
    sa.Column('instance_uuid', sa.String(length=36), nullable=True),
    sa.Column('attached_host', sa.String(length=255), nullable=True),
    sa.Column('mountpoint', sa.String(length=255), nullable=True),
    sa.Column('attach_mode', sa.String(length=36), nullable=True),
    sa.Column('attach_status', sa.String(length=255), nullable=False),
    sa.Column('volume_host', sa.String(length=255), nullable=True),
    sa.Column('connector', sa.JSON(), nullable=True),
    sa.Column('connection_info', sa.JSON(), nullable=True),
    sa.Column('attach_time', sa.Float(), nullable=True),
    sa.Column('detach_time', sa.Float(), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_block_storage_volume_attachment'))
    )
    op.create_index(op.f('ix_block_storage_volume_attachment_volume_id'),
                    'block_storage_volume_attachment', ['volume_id'], unique=False)
    op.create_index(op.f('ix_block_storage_volume_attachment_instance_uuid'),
                    'block_storage_volume_attachment', ['instance_uuid'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_block_storage_volume_attachment_instance_uuid'),
                  table_name='block_storage_volume_attachment')
    op.drop_index(op.f('ix_block_storage_volume_attachment_volume_id'),
                  table_name='block_storage_volume_attachment')
    op.drop_table('block_storage_volume_attachment')
