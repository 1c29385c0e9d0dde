"""compute instances, actions and migrations

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 08:54:01.422161
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('compute_quota',
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('resource', sa.String(length=255), nullable=False),
    sa.Column('hard_limit', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('project_id', 'resource', name=op.f('pk_compute_quota'))
    )

    op.create_table('compute_instance',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('hostname', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.String(length=255), nullable=False),
    sa.Column('image_ref', sa.String(length=255), nullable=False),
    sa.Column('flavor', sa.JSON(), nullable=False),
    sa.Column('vcpus', sa.Integer(), nullable=False),
    sa.Column('memory_mb', sa.Integer(), nullable=False),
    sa.Column('old_flavor', sa.JSON(), nullable=True),
    sa.Column('host', sa.String(length=255), nullable=True),
    sa.Column('node', sa.String(length=255), nullable=True),
    sa.Column('availability_zone', sa.String(length=255), nullable=True),
    sa.Column('requested_zone', sa.String(length=255), nullable=True),
    sa.Column('vm_state', sa.String(length=255), nullable=False),
    sa.Column('task_state', sa.String(length=255), nullable=True),
    sa.Column('power_state', sa.Integer(), nullable=False),
    sa.Column('locked', sa.Boolean(), nullable=False),
    sa.Column('locked_by', sa.String(length=16), nullable=True),
    sa.Column('locked_reason', sa.Text(), nullable=True),
    sa.Column('key_name', sa.String(length=255), nullable=True),
    sa.Column('key_data', sa.Text(), nullable=True),
    sa.Column('user_data', sa.Text(), nullable=True),
    sa.Column('config_drive', sa.String(length=16), nullable=False),
    sa.Column('access_ipv4', sa.String(length=64), nullable=False),
    sa.Column('access_ipv6', sa.String(length=64), nullable=False),
    sa.Column('disk_config', sa.String(length=16), nullable=False),
    sa.Column('metadata', sa.JSON(), nullable=False),
    sa.Column('system_metadata', sa.JSON(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('security_groups', sa.JSON(), nullable=False),
    sa.Column('networks', sa.JSON(), nullable=False),
    sa.Column('addresses', sa.JSON(), nullable=False),
    sa.Column('block_devices', sa.JSON(), nullable=False),
    sa.Column('scheduler_hints', sa.JSON(), nullable=False),
    sa.Column('server_group', sa.String(length=36), nullable=True),
    sa.Column('trusted_certs', sa.JSON(), nullable=True),
    sa.Column('reservation_id', sa.String(length=255), nullable=False),
    sa.Column('launch_index', sa.Integer(), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('fault', sa.JSON(), nullable=True),
    sa.Column('launched_at', sa.Float(), nullable=True),
    sa.Column('terminated_at', sa.Float(), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=True),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('deleted_at', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compute_instance')),
    sa.UniqueConstraint('uuid', name=op.f('uq_compute_instance_uuid'))
    )
    with op.batch_alter_table('compute_instance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_compute_instance_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_compute_instance_deleted'), ['deleted'], unique=False)
        batch_op.create_index(batch_op.f('ix_compute_instance_host'), ['host'], unique=False)
        batch_op.create_index(batch_op.f('ix_compute_instance_project_id'), ['project_id'], unique=False)

    op.create_table('compute_instance_action',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('instance_uuid', sa.String(length=36), nullable=False),
    sa.Column('action', sa.String(length=255), nullable=False),
    sa.Column('request_id', sa.String(length=255), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.String(length=255), nullable=False),
    sa.Column('message', sa.String(length=255), nullable=True),
    sa.Column('start_time', sa.Float(), nullable=False),
    sa.Column('finish_time', sa.Float(), nullable=True),
    sa.Column('updated_at', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compute_instance_action'))
    )
    with op.batch_alter_table('compute_instance_action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_compute_instance_action_instance_uuid'), ['instance_uuid'], unique=False)

    op.create_table('compute_migration',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('instance_uuid', sa.String(length=36), nullable=False),
    sa.Column('migration_type', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('source_compute', sa.String(length=255), nullable=True),
    sa.Column('dest_compute', sa.String(length=255), nullable=True),
    sa.Column('old_flavor', sa.JSON(), nullable=False),
    sa.Column('new_flavor', sa.JSON(), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compute_migration')),
    sa.UniqueConstraint('uuid', name=op.f('uq_compute_migration_uuid'))
    )
    with op.batch_alter_table('compute_migration', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_compute_migration_instance_uuid'), ['instance_uuid'], unique=False)

    op.create_table('compute_instance_action_event',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=255), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=True),
    sa.Column('result', sa.String(length=255), nullable=True),
    sa.Column('traceback', sa.Text(), nullable=True),
    sa.Column('details', sa.Text(), nullable=True),
    sa.Column('start_time', sa.Float(), nullable=False),
    sa.Column('finish_time', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['action_id'], ['compute_instance_action.id'], name=op.f('fk_compute_instance_action_event_action_id_compute_instance_action'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compute_instance_action_event'))
    )
    with op.batch_alter_table('compute_instance_action_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_compute_instance_action_event_action_id'), ['action_id'], unique=False)




def downgrade() -> None:
    # A dropped table takes its indexes with it; MySQL refuses to drop first an index
    # that a foreign key needs (error 1553), so the tables go without that step.
    op.drop_table('compute_quota')

    op.drop_table('compute_instance_action_event')
    op.drop_table('compute_migration')
    op.drop_table('compute_instance_action')
    op.drop_table('compute_instance')

