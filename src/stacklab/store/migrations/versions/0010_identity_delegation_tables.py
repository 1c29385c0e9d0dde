"""identity: trusts, domain configuration, policies, endpoint groups, project endpoints,
OAuth1 consumers and access rules

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 10:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('identity_trust',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('trustor_user_id', sa.String(length=64), nullable=False),
    sa.Column('trustee_user_id', sa.String(length=64), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=True),
    sa.Column('impersonation', sa.Boolean(), nullable=False),
    sa.Column('expires_at', sa.Float(), nullable=True),
    sa.Column('remaining_uses', sa.Integer(), nullable=True),
    sa.Column('redelegated_trust_id', sa.String(length=64), nullable=True),
    sa.Column('redelegation_count', sa.Integer(), nullable=True),
    sa.Column('deleted_at', sa.Float(), nullable=True),
    sa.Column('role_ids', sa.JSON(), nullable=False),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_trust'))
    )
    with op.batch_alter_table('identity_trust', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_trust_trustee_user_id'), ['trustee_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_identity_trust_trustor_user_id'), ['trustor_user_id'], unique=False)
    op.create_table('identity_domain_config',
    sa.Column('domain_id', sa.String(length=64), nullable=False),
    sa.Column('group', sa.String(length=255), nullable=False),
    sa.Column('option', sa.String(length=255), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('sensitive', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('domain_id', 'group', 'option', name=op.f('pk_identity_domain_config'))
    )
    op.create_table('identity_policy',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=255), nullable=False),
    sa.Column('blob', sa.Text(), nullable=False),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_policy'))
    )
    op.create_table('identity_endpoint_group',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_endpoint_group'))
    )
    op.create_table('identity_project_endpoint_group',
    sa.Column('endpoint_group_id', sa.String(length=64), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['endpoint_group_id'], ['identity_endpoint_group.id'], name=op.f('fk_identity_project_endpoint_group_endpoint_group_id_identity_endpoint_group'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('endpoint_group_id', 'project_id', name=op.f('pk_identity_project_endpoint_group'))
    )
    with op.batch_alter_table('identity_project_endpoint_group', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_project_endpoint_group_project_id'), ['project_id'], unique=False)
    op.create_table('identity_project_endpoint',
    sa.Column('endpoint_id', sa.String(length=64), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('endpoint_id', 'project_id', name=op.f('pk_identity_project_endpoint'))
    )
    with op.batch_alter_table('identity_project_endpoint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_project_endpoint_project_id'), ['project_id'], unique=False)
    op.create_table('identity_oauth_consumer',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_oauth_consumer'))
    )
    op.create_table('identity_access_rule',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('service', sa.String(length=64), nullable=True),
    sa.Column('path', sa.String(length=128), nullable=True),
    sa.Column('method', sa.String(length=16), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_access_rule'))
    )
    with op.batch_alter_table('identity_access_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_access_rule_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    for table in ('identity_access_rule', 'identity_oauth_consumer', 'identity_project_endpoint', 'identity_project_endpoint_group',
                  'identity_endpoint_group', 'identity_policy', 'identity_domain_config',
                  'identity_trust'):
        op.drop_table(table)
