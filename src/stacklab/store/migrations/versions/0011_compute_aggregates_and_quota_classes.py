"""compute host aggregates and quota classes

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 10:55:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('compute_aggregate',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('hosts', sa.JSON(), nullable=False),
    sa.Column('metadata', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compute_aggregate')),
    sa.UniqueConstraint('name', name=op.f('uq_compute_aggregate_name')),
    sa.UniqueConstraint('uuid', name=op.f('uq_compute_aggregate_uuid'))
    )
    op.create_table('compute_quota_class',
    sa.Column('class_name', sa.String(length=255), nullable=False),
    sa.Column('resource', sa.String(length=255), nullable=False),
    sa.Column('hard_limit', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('class_name', 'resource', name=op.f('pk_compute_quota_class'))
    )


def downgrade() -> None:
    op.drop_table('compute_quota_class')
    op.drop_table('compute_aggregate')
