"""orchestration: stacks, resources, events and stack locks

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04 05:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('orchestration_event',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('stack_id', sa.String(length=36), nullable=False),
    sa.Column('resource_name', sa.String(length=255), nullable=False),
    sa.Column('physical_id', sa.String(length=255), nullable=True),
    sa.Column('resource_type', sa.String(length=255), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('properties', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_orchestration_event')),
    sa.UniqueConstraint('id', name=op.f('uq_orchestration_event_id'))
    )
    op.create_index(op.f('ix_orchestration_event_stack_id'), 'orchestration_event', ['stack_id'], unique=False)
    op.create_table('orchestration_resource',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('stack_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('type', sa.String(length=255), nullable=False),
    sa.Column('physical_id', sa.String(length=255), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=False),
    sa.Column('properties', sa.JSON(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('metadata', sa.JSON(), nullable=False),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.Column('requires', sa.JSON(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orchestration_resource'))
    )
    op.create_index(op.f('ix_orchestration_resource_stack_id'), 'orchestration_resource', ['stack_id'], unique=False)
    op.create_table('orchestration_stack',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=True),
    sa.Column('username', sa.String(length=255), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=False),
    sa.Column('template', sa.JSON(), nullable=False),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.Column('environment', sa.JSON(), nullable=False),
    sa.Column('previous', sa.JSON(), nullable=True),
    sa.Column('disable_rollback', sa.Boolean(), nullable=False),
    sa.Column('timeout_mins', sa.Integer(), nullable=True),
    sa.Column('tags', sa.JSON(), nullable=True),
    sa.Column('parent_id', sa.String(length=36), nullable=True),
    sa.Column('owner_resource', sa.String(length=255), nullable=True),
    sa.Column('trust_id', sa.String(length=64), nullable=True),
    sa.Column('outputs', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=True),
    sa.Column('deleted_at', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orchestration_stack'))
    )
    op.create_index(op.f('ix_orchestration_stack_name'), 'orchestration_stack', ['name'], unique=False)
    op.create_index(op.f('ix_orchestration_stack_parent_id'), 'orchestration_stack', ['parent_id'], unique=False)
    op.create_index(op.f('ix_orchestration_stack_project_id'), 'orchestration_stack', ['project_id'], unique=False)
    op.create_table('orchestration_stack_lock',
    sa.Column('stack_id', sa.String(length=36), nullable=False),
    sa.Column('engine_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('stack_id', name=op.f('pk_orchestration_stack_lock'))
    )


def downgrade() -> None:
    op.drop_table('orchestration_stack_lock')
    op.drop_index(op.f('ix_orchestration_stack_project_id'), table_name='orchestration_stack')
    op.drop_index(op.f('ix_orchestration_stack_parent_id'), table_name='orchestration_stack')
    op.drop_index(op.f('ix_orchestration_stack_name'), table_name='orchestration_stack')
    op.drop_table('orchestration_stack')
    op.drop_index(op.f('ix_orchestration_resource_stack_id'), table_name='orchestration_resource')
    op.drop_table('orchestration_resource')
    op.drop_index(op.f('ix_orchestration_event_stack_id'), table_name='orchestration_event')
    op.drop_table('orchestration_event')
