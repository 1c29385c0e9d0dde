"""network metering labels and their rules

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 10:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('network_metering_label',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.String(length=1024), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_metering_label'))
    )
    with op.batch_alter_table('network_metering_label', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_metering_label_project_id'), ['project_id'], unique=False)

    op.create_table('network_metering_label_rule',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('metering_label_id', sa.String(length=36), nullable=False),
    sa.Column('direction', sa.String(length=16), nullable=False),
    sa.Column('excluded', sa.Boolean(), nullable=False),
    sa.Column('remote_ip_prefix', sa.String(length=64), nullable=True),
    sa.Column('source_ip_prefix', sa.String(length=64), nullable=True),
    sa.Column('destination_ip_prefix', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['metering_label_id'], ['network_metering_label.id'], name=op.f('fk_network_metering_label_rule_metering_label_id_network_metering_label'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_metering_label_rule'))
    )
    with op.batch_alter_table('network_metering_label_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_metering_label_rule_metering_label_id'), ['metering_label_id'], unique=False)


def downgrade() -> None:
    # A dropped table takes its indexes with it; MySQL refuses to drop first an index
    # that a foreign key needs (error 1553), so the tables go without that step.
    op.drop_table('network_metering_label_rule')
    op.drop_table('network_metering_label')
