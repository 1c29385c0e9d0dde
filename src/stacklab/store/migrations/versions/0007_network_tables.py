"""network tables

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 10:35:49.991167
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('network_agent',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('agent_type', sa.String(length=255), nullable=False),
    sa.Column('binary', sa.String(length=255), nullable=False),
    sa.Column('topic', sa.String(length=255), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('admin_state_up', sa.Boolean(), nullable=False),
    sa.Column('availability_zone', sa.String(length=255), nullable=True),
    sa.Column('configurations', sa.JSON(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('started_at', sa.Float(), nullable=False),
    sa.Column('heartbeat_timestamp', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_agent')),
    sa.UniqueConstraint('agent_type', 'host', name=op.f('uq_network_agent_agent_type'))
    )
    op.create_table('network_floatingip',
    sa.Column('floating_network_id', sa.String(length=36), nullable=False),
    sa.Column('floating_ip_address', sa.String(length=64), nullable=False),
    sa.Column('floating_port_id', sa.String(length=36), nullable=False),
    sa.Column('fixed_port_id', sa.String(length=36), nullable=True),
    sa.Column('fixed_ip_address', sa.String(length=64), nullable=True),
    sa.Column('router_id', sa.String(length=36), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('revision_number', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_floatingip'))
    )
    with op.batch_alter_table('network_floatingip', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_floatingip_fixed_port_id'), ['fixed_port_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_network_floatingip_floating_network_id'), ['floating_network_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_network_floatingip_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_network_floatingip_router_id'), ['router_id'], unique=False)

    op.create_table('network_network',
    sa.Column('admin_state_up', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('external', sa.Boolean(), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('mtu', sa.Integer(), nullable=False),
    sa.Column('port_security_enabled', sa.Boolean(), nullable=False),
    sa.Column('network_type', sa.String(length=32), nullable=False),
    sa.Column('physical_network', sa.String(length=64), nullable=True),
    sa.Column('segmentation_id', sa.Integer(), nullable=True),
    sa.Column('availability_zone_hints', sa.JSON(), nullable=False),
    sa.Column('dns_domain', sa.String(length=255), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('revision_number', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_network'))
    )
    with op.batch_alter_table('network_network', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_network_project_id'), ['project_id'], unique=False)

    op.create_table('network_quota',
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('resource', sa.String(length=255), nullable=False),
    sa.Column('hard_limit', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('project_id', 'resource', name=op.f('pk_network_quota'))
    )
    op.create_table('network_router',
    sa.Column('admin_state_up', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('gw_network_id', sa.String(length=36), nullable=True),
    sa.Column('enable_snat', sa.Boolean(), nullable=False),
    sa.Column('routes', sa.JSON(), nullable=False),
    sa.Column('distributed', sa.Boolean(), nullable=False),
    sa.Column('ha', sa.Boolean(), nullable=False),
    sa.Column('availability_zone_hints', sa.JSON(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('revision_number', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_router'))
    )
    with op.batch_alter_table('network_router', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_router_project_id'), ['project_id'], unique=False)

    op.create_table('network_security_group',
    sa.Column('stateful', sa.Boolean(), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('revision_number', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_security_group'))
    )
    with op.batch_alter_table('network_security_group', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_security_group_project_id'), ['project_id'], unique=False)

    op.create_table('network_subnetpool',
    sa.Column('ip_version', sa.Integer(), nullable=False),
    sa.Column('prefixes', sa.JSON(), nullable=False),
    sa.Column('default_prefixlen', sa.Integer(), nullable=False),
    sa.Column('min_prefixlen', sa.Integer(), nullable=False),
    sa.Column('max_prefixlen', sa.Integer(), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('default_quota', sa.Integer(), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('revision_number', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_subnetpool'))
    )
    with op.batch_alter_table('network_subnetpool', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_subnetpool_project_id'), ['project_id'], unique=False)

    op.create_table('network_dhcp_binding',
    sa.Column('network_id', sa.String(length=36), nullable=False),
    sa.Column('agent_id', sa.String(length=36), nullable=False),
    sa.Column('binding_index', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['network_agent.id'], name=op.f('fk_network_dhcp_binding_agent_id_network_agent'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['network_id'], ['network_network.id'], name=op.f('fk_network_dhcp_binding_network_id_network_network'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('network_id', 'agent_id', name=op.f('pk_network_dhcp_binding'))
    )
    op.create_table('network_port',
    sa.Column('network_id', sa.String(length=36), nullable=False),
    sa.Column('mac_address', sa.String(length=32), nullable=False),
    sa.Column('admin_state_up', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('device_id', sa.String(length=255), nullable=False),
    sa.Column('device_owner', sa.String(length=255), nullable=False),
    sa.Column('security_groups', sa.JSON(), nullable=False),
    sa.Column('allowed_address_pairs', sa.JSON(), nullable=False),
    sa.Column('extra_dhcp_opts', sa.JSON(), nullable=False),
    sa.Column('port_security_enabled', sa.Boolean(), nullable=False),
    sa.Column('binding_host_id', sa.String(length=255), nullable=False),
    sa.Column('binding_vnic_type', sa.String(length=32), nullable=False),
    sa.Column('binding_profile', sa.JSON(), nullable=False),
    sa.Column('dns_name', sa.String(length=255), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('revision_number', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['network_id'], ['network_network.id'], name=op.f('fk_network_port_network_id_network_network'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_port')),
    sa.UniqueConstraint('network_id', 'mac_address', name=op.f('uq_network_port_network_id'))
    )
    with op.batch_alter_table('network_port', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_port_device_id'), ['device_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_network_port_network_id'), ['network_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_network_port_project_id'), ['project_id'], unique=False)

    op.create_table('network_router_binding',
    sa.Column('router_id', sa.String(length=36), nullable=False),
    sa.Column('agent_id', sa.String(length=36), nullable=False),
    sa.Column('binding_index', sa.Integer(), nullable=False),
    sa.Column('ha_state', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['network_agent.id'], name=op.f('fk_network_router_binding_agent_id_network_agent'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['router_id'], ['network_router.id'], name=op.f('fk_network_router_binding_router_id_network_router'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('router_id', 'agent_id', name=op.f('pk_network_router_binding'))
    )
    op.create_table('network_security_group_rule',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('security_group_id', sa.String(length=36), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('ethertype', sa.String(length=8), nullable=False),
    sa.Column('protocol', sa.String(length=40), nullable=True),
    sa.Column('port_range_min', sa.Integer(), nullable=True),
    sa.Column('port_range_max', sa.Integer(), nullable=True),
    sa.Column('remote_ip_prefix', sa.String(length=64), nullable=True),
    sa.Column('remote_group_id', sa.String(length=36), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('revision_number', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['security_group_id'], ['network_security_group.id'], name=op.f('fk_network_security_group_rule_security_group_id_network_security_group'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_security_group_rule'))
    )
    with op.batch_alter_table('network_security_group_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_security_group_rule_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_network_security_group_rule_security_group_id'), ['security_group_id'], unique=False)

    op.create_table('network_subnet',
    sa.Column('network_id', sa.String(length=36), nullable=False),
    sa.Column('ip_version', sa.Integer(), nullable=False),
    sa.Column('cidr', sa.String(length=64), nullable=False),
    sa.Column('gateway_ip', sa.String(length=64), nullable=True),
    sa.Column('enable_dhcp', sa.Boolean(), nullable=False),
    sa.Column('allocation_pools', sa.JSON(), nullable=False),
    sa.Column('dns_nameservers', sa.JSON(), nullable=False),
    sa.Column('host_routes', sa.JSON(), nullable=False),
    sa.Column('ipv6_ra_mode', sa.String(length=32), nullable=True),
    sa.Column('ipv6_address_mode', sa.String(length=32), nullable=True),
    sa.Column('subnetpool_id', sa.String(length=36), nullable=True),
    sa.Column('service_types', sa.JSON(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('revision_number', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['network_id'], ['network_network.id'], name=op.f('fk_network_subnet_network_id_network_network'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_subnet'))
    )
    with op.batch_alter_table('network_subnet', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_subnet_network_id'), ['network_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_network_subnet_project_id'), ['project_id'], unique=False)

    op.create_table('network_vrid_allocation',
    sa.Column('router_id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('vr_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['router_id'], ['network_router.id'], name=op.f('fk_network_vrid_allocation_router_id_network_router'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('router_id', name=op.f('pk_network_vrid_allocation')),
    sa.UniqueConstraint('project_id', 'vr_id', name=op.f('uq_network_vrid_allocation_project_id'))
    )
    op.create_table('network_ip_allocation',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('port_id', sa.String(length=36), nullable=False),
    sa.Column('subnet_id', sa.String(length=36), nullable=False),
    sa.Column('network_id', sa.String(length=36), nullable=False),
    sa.Column('ip_address', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['port_id'], ['network_port.id'], name=op.f('fk_network_ip_allocation_port_id_network_port'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subnet_id'], ['network_subnet.id'], name=op.f('fk_network_ip_allocation_subnet_id_network_subnet'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_ip_allocation')),
    sa.UniqueConstraint('subnet_id', 'ip_address', name=op.f('uq_network_ip_allocation_subnet_id'))
    )
    with op.batch_alter_table('network_ip_allocation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_ip_allocation_network_id'), ['network_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_network_ip_allocation_port_id'), ['port_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_network_ip_allocation_subnet_id'), ['subnet_id'], unique=False)




def downgrade() -> None:
    # A dropped table takes its indexes with it; MySQL refuses to drop first an index
    # that a foreign key needs (error 1553), so the tables go without that step.
    op.drop_table('network_ip_allocation')
    op.drop_table('network_vrid_allocation')
    op.drop_table('network_subnet')
    op.drop_table('network_security_group_rule')
    op.drop_table('network_router_binding')
    op.drop_table('network_port')
    op.drop_table('network_dhcp_binding')
    op.drop_table('network_subnetpool')
    op.drop_table('network_security_group')
    op.drop_table('network_router')
    op.drop_table('network_quota')
    op.drop_table('network_network')
    op.drop_table('network_floatingip')
    op.drop_table('network_agent')

