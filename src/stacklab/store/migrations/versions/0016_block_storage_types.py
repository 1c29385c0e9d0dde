"""block storage: volume types, QoS specs and encryption types

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 17:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('block_storage_volume_type',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=True),
    sa.Column('is_public', sa.Boolean(), nullable=False),
    sa.Column('extra_specs', sa.JSON(), nullable=False),
    sa.Column('projects', sa.JSON(), nullable=False),
    sa.Column('qos_specs_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_block_storage_volume_type')),
    sa.UniqueConstraint('name', name=op.f('uq_block_storage_volume_type_name'))
    )
    op.create_table('block_storage_qos_specs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('consumer', sa.String(length=255), nullable=False),
    sa.Column('specs', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_block_storage_qos_specs')),
    sa.UniqueConstraint('name', name=op.f('uq_block_storage_qos_specs_name'))
    )
    op.create_table('block_storage_encryption',
    sa.Column('volume_type_id', sa.String(length=36), nullable=False),
    sa.Column('encryption_id', sa.String(length=36), nullable=False),
    sa.Column('provider', sa.String(length=255), nullable=False),
    sa.Column('control_location', sa.String(length=255), nullable=False),
    sa.Column('cipher', sa.String(length=255), nullable=True),
    sa.Column('key_size', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('volume_type_id', name=op.f('pk_block_storage_encryption')),
    sa.UniqueConstraint('encryption_id', name=op.f('uq_block_storage_encryption_encryption_id'))
    )


def downgrade() -> None:
    op.drop_table('block_storage_encryption')
    op.drop_table('block_storage_qos_specs')
    op.drop_table('block_storage_volume_type')
