"""orchestration: software configs and deployments

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('orchestration_software_config',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('group', sa.String(length=255), nullable=True),
    sa.Column('config', sa.JSON(), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orchestration_software_config'))
    )
    op.create_index(op.f('ix_orchestration_software_config_project_id'), 'orchestration_software_config', ['project_id'], unique=False)
    op.create_table('orchestration_software_deployment',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('config_id', sa.String(length=36), nullable=False),
    sa.Column('server_id', sa.String(length=255), nullable=False),
    sa.Column('input_values', sa.JSON(), nullable=True),
    sa.Column('output_values', sa.JSON(), nullable=True),
    sa.Column('action', sa.String(length=255), nullable=True),
    sa.Column('status', sa.String(length=255), nullable=True),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('stack_user_project_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orchestration_software_deployment'))
    )
    op.create_index(op.f('ix_orchestration_software_deployment_config_id'), 'orchestration_software_deployment', ['config_id'], unique=False)
    op.create_index(op.f('ix_orchestration_software_deployment_project_id'), 'orchestration_software_deployment', ['project_id'], unique=False)
    op.create_index(op.f('ix_orchestration_software_deployment_server_id'), 'orchestration_software_deployment', ['server_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_orchestration_software_deployment_server_id'), table_name='orchestration_software_deployment')
    op.drop_index(op.f('ix_orchestration_software_deployment_project_id'), table_name='orchestration_software_deployment')
    op.drop_index(op.f('ix_orchestration_software_deployment_config_id'), table_name='orchestration_software_deployment')
    op.drop_table('orchestration_software_deployment')
    op.drop_index(op.f('ix_orchestration_software_config_project_id'), table_name='orchestration_software_config')
    op.drop_table('orchestration_software_config')
