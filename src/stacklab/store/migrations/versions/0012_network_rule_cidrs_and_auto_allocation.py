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


def downgrade() -> None:
    with op.batch_alter_table('network_security_group_rule', schema=None) as batch_op:
        batch_op.drop_column('normalized_cidr')
