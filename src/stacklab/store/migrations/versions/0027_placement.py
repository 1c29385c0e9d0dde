"""placement: resource providers, inventories and allocations

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04 10:05:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('placement_resource_provider',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_placement_resource_provider')),
    sa.UniqueConstraint('name', name=op.f('uq_placement_resource_provider_name'))
    )
    op.create_table('placement_allocation',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('consumer_id', sa.String(length=36), nullable=False),
    sa.Column('resource_class', sa.String(length=255), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['placement_resource_provider.id'], name=op.f('fk_placement_allocation_provider_id_placement_resource_provider'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_placement_allocation')),
    sa.UniqueConstraint('consumer_id', 'provider_id', 'resource_class', name=op.f('uq_placement_allocation_consumer_id'))
    )
    op.create_index(op.f('ix_placement_allocation_consumer_id'), 'placement_allocation', ['consumer_id'], unique=False)
    op.create_index(op.f('ix_placement_allocation_provider_id'), 'placement_allocation', ['provider_id'], unique=False)
    op.create_table('placement_inventory',
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('resource_class', sa.String(length=255), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('reserved', sa.Integer(), nullable=False),
    sa.Column('allocation_ratio', sa.Float(), nullable=False),
    sa.Column('max_unit', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['placement_resource_provider.id'], name=op.f('fk_placement_inventory_provider_id_placement_resource_provider'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('provider_id', 'resource_class', name=op.f('pk_placement_inventory'))
    )


def downgrade() -> None:
    op.drop_table('placement_inventory')
    # A dropped table takes its indexes (MySQL refuses to drop one a foreign key needs).
    op.drop_table('placement_allocation')
    op.drop_table('placement_resource_provider')
