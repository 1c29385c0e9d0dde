"""network: security group rules' normalized_cidr, auto-allocated topologies

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 11:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('network_security_group_rule', schema=None) as batch_op:
        batch_op.add_column(sa.Column('normalized_cidr', sa.String(length=64), nullable=True))
    # Rules made before this kept only the network address, which is already normalised.
    op.execute('UPDATE network_security_group_rule SET normalized_cidr = remote_ip_prefix')

    op.create_table('network_auto_allocated_topology',
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('network_id', sa.String(length=36), nullable=False),
    sa.Column('router_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['network_id'], ['network_network.id'], name=op.f('fk_network_auto_allocated_topology_network_id_network_network'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['router_id'], ['network_router.id'], name=op.f('fk_network_auto_allocated_topology_router_id_network_router'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_network_auto_allocated_topology')),
    sa.UniqueConstraint('network_id', name=op.f('uq_network_auto_allocated_topology_network_id'))
    )


def downgrade() -> None:
    op.drop_table('network_auto_allocated_topology')
    with op.batch_alter_table('network_security_group_rule', schema=None) as batch_op:
        batch_op.drop_column('normalized_cidr')
