"""image tasks and metadata definitions

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 10:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def _stamps() -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column('created_at', sa.Float(), nullable=False),
            sa.Column('updated_at', sa.Float(), nullable=False)]


def upgrade() -> None:
    op.create_table(
        'image_task',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('type', sa.String(length=30), nullable=False),
        sa.Column('status', sa.String(length=30), nullable=False),
        sa.Column('owner', sa.String(length=255), nullable=True),
        sa.Column('input', sa.JSON(), nullable=False),
        sa.Column('result', sa.JSON(), nullable=True),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('image_id', sa.String(length=36), nullable=True),
        sa.Column('request_id', sa.String(length=64), nullable=True),
        sa.Column('user_id', sa.String(length=64), nullable=True),
        sa.Column('expires_at', sa.Float(), nullable=True),
        *_stamps(),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('image_task', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_image_task_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_image_task_owner'), ['owner'], unique=False)
        batch_op.create_index(batch_op.f('ix_image_task_image_id'), ['image_id'], unique=False)

    op.create_table(
        'image_metadef_namespace',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('namespace', sa.String(length=80), nullable=False),
        sa.Column('display_name', sa.String(length=80), nullable=True),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('visibility', sa.String(length=32), nullable=False),
        sa.Column('protected', sa.Boolean(), nullable=False),
        sa.Column('owner', sa.String(length=255), nullable=True),
        *_stamps(),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('namespace'),
    )
    with op.batch_alter_table('image_metadef_namespace', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_image_metadef_namespace_owner'), ['owner'],
                              unique=False)
    op.create_table(
        'image_metadef_resource_type',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('protected', sa.Boolean(), nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    op.create_table(
        'image_metadef_association',
        sa.Column('namespace_id', sa.String(length=36), nullable=False),
        sa.Column('resource_type_id', sa.String(length=36), nullable=False),
        sa.Column('prefix', sa.String(length=80), nullable=True),
        sa.Column('properties_target', sa.String(length=80), nullable=True),
        *_stamps(),
        sa.ForeignKeyConstraint(['namespace_id'], ['image_metadef_namespace.id'],
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['resource_type_id'], ['image_metadef_resource_type.id'],
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('namespace_id', 'resource_type_id'),
    )
    op.create_table(
        'image_metadef_object',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('namespace_id', sa.String(length=36), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('required', sa.JSON(), nullable=False),
        sa.Column('properties', sa.JSON(), nullable=False),
        *_stamps(),
        sa.ForeignKeyConstraint(['namespace_id'], ['image_metadef_namespace.id'],
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('namespace_id', 'name'),
    )
    op.create_table(
        'image_metadef_property',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('namespace_id', sa.String(length=36), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('schema', sa.JSON(), nullable=False),
        *_stamps(),
        sa.ForeignKeyConstraint(['namespace_id'], ['image_metadef_namespace.id'],
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('namespace_id', 'name'),
    )
    op.create_table(
        'image_metadef_tag',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('namespace_id', sa.String(length=36), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        *_stamps(),
        sa.ForeignKeyConstraint(['namespace_id'], ['image_metadef_namespace.id'],
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('namespace_id', 'name'),
    )
    for table in ('image_metadef_object', 'image_metadef_property', 'image_metadef_tag'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f'ix_{table}_namespace_id'), ['namespace_id'],
                                  unique=False)


def downgrade() -> None:
    for table in ('image_metadef_tag', 'image_metadef_property', 'image_metadef_object',
                  'image_metadef_association', 'image_metadef_resource_type',
                  'image_metadef_namespace', 'image_task'):
        op.drop_table(table)
