"""block storage: user messages

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04 11:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('block_storage_message',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('message_level', sa.String(length=255), nullable=False),
    sa.Column('request_id', sa.String(length=255), nullable=True),
    sa.Column('resource_type', sa.String(length=36), nullable=True),
    sa.Column('resource_uuid', sa.String(length=255), nullable=True),
    sa.Column('event_id', sa.String(length=255), nullable=False),
    sa.Column('detail_id', sa.String(length=10), nullable=True),
    sa.Column('action_id', sa.String(length=10), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('expires_at', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_block_storage_message'))
    )
    op.create_index(op.f('ix_block_storage_message_project_id'), 'block_storage_message',
                    ['project_id'], unique=False)
    op.create_index(op.f('ix_block_storage_message_expires_at'), 'block_storage_message',
                    ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_block_storage_message_expires_at'),
                  table_name='block_storage_message')
    op.drop_index(op.f('ix_block_storage_message_project_id'),
                  table_name='block_storage_message')
    op.drop_table('block_storage_message')
