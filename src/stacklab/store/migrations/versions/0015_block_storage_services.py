"""block storage: cinder's services

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 17:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('block_storage_service',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('binary', sa.String(length=255), nullable=False),
    sa.Column('topic', sa.String(length=255), nullable=False),
    sa.Column('node', sa.String(length=255), nullable=False),
    sa.Column('availability_zone', sa.String(length=255), nullable=False),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('disabled_reason', sa.String(length=255), nullable=True),
    sa.Column('report_count', sa.Integer(), nullable=False),
    sa.Column('frozen', sa.Boolean(), nullable=False),
    sa.Column('replication_status', sa.String(length=36), nullable=False),
    sa.Column('active_backend_id', sa.String(length=255), nullable=True),
    sa.Column('cluster_name', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=True),
    sa.Column('modified_at', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_block_storage_service')),
    sa.UniqueConstraint('host', 'binary', name=op.f('uq_block_storage_service_host')),
    sa.UniqueConstraint('uuid', name=op.f('uq_block_storage_service_uuid'))
    )


def downgrade() -> None:
    op.drop_table('block_storage_service')
