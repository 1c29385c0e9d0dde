"""identity: OAuth1 request and access tokens, endpoint policy associations

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 12:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('identity_oauth_request_token',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('request_secret', sa.String(length=64), nullable=False),
    sa.Column('consumer_id', sa.String(length=64), nullable=False),
    sa.Column('requested_project_id', sa.String(length=64), nullable=False),
    sa.Column('role_ids', sa.JSON(), nullable=False),
    sa.Column('authorizing_user_id', sa.String(length=64), nullable=True),
    sa.Column('verifier', sa.String(length=64), nullable=True),
    sa.Column('expires_at', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_oauth_request_token'))
    )
    with op.batch_alter_table('identity_oauth_request_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_oauth_request_token_consumer_id'), ['consumer_id'], unique=False)
    op.create_table('identity_oauth_access_token',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('access_secret', sa.String(length=64), nullable=False),
    sa.Column('consumer_id', sa.String(length=64), nullable=False),
    sa.Column('authorizing_user_id', sa.String(length=64), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('role_ids', sa.JSON(), nullable=False),
    sa.Column('expires_at', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_oauth_access_token'))
    )
    with op.batch_alter_table('identity_oauth_access_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_oauth_access_token_authorizing_user_id'), ['authorizing_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_identity_oauth_access_token_consumer_id'), ['consumer_id'], unique=False)
    op.create_table('identity_policy_association',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('policy_id', sa.String(length=64), nullable=False),
    sa.Column('endpoint_id', sa.String(length=64), nullable=True),
    sa.Column('service_id', sa.String(length=64), nullable=True),
    sa.Column('region_id', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_policy_association')),
    sa.UniqueConstraint('endpoint_id', 'service_id', 'region_id', name=op.f('uq_identity_policy_association_endpoint_id'))
    )
    with op.batch_alter_table('identity_policy_association', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_policy_association_policy_id'), ['policy_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('identity_policy_association', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_policy_association_policy_id'))
    op.drop_table('identity_policy_association')
    with op.batch_alter_table('identity_oauth_access_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_oauth_access_token_consumer_id'))
        batch_op.drop_index(batch_op.f('ix_identity_oauth_access_token_authorizing_user_id'))
    op.drop_table('identity_oauth_access_token')
    with op.batch_alter_table('identity_oauth_request_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_oauth_request_token_consumer_id'))
    op.drop_table('identity_oauth_request_token')
