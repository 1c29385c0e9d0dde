"""cinder's default policy rules, as data for oslo.policy.

Read from openstack/cinder master at commit ab09bc39dbcd4d5b301f2f5da8fcfd9e5ef1fe8c
(2026-08-21): every rule ``cinder/policies/`` registers (its ``list_rules()``), in
cinder's module order, names and check strings character for character. cinder registers
no scope types. Rules of APIs stacklab does not serve yet (backups, groups, transfers)
are kept so an operator's policy file that names them still loads.
"""

from __future__ import annotations

from stacklab.api.policy import PolicyRule

RULES: tuple[PolicyRule, ...] = (
    # cinder/policies/attachments.py
    PolicyRule('volume:attachment_create', 'rule:xena_system_admin_or_project_member'),
    PolicyRule('volume:attachment_update', 'rule:xena_system_admin_or_project_member'),
    PolicyRule('volume:attachment_delete', 'rule:xena_system_admin_or_project_member'),
    PolicyRule('volume:attachment_complete', 'rule:xena_system_admin_or_project_member'),
    PolicyRule('volume:multiattach_bootable_volume', 'rule:xena_system_admin_or_project_member'),
    # cinder/policies/backup_actions.py
    PolicyRule('volume_extension:backup_admin_actions:reset_status', 'rule:admin_api'),
    PolicyRule('volume_extension:backup_admin_actions:force_delete', 'rule:admin_api'),
    # cinder/policies/backups.py
    PolicyRule('backup:get_all', 'rule:xena_system_admin_or_project_reader'),
    PolicyRule('backup:backup_project_attribute', 'rule:admin_api'),
    PolicyRule('backup:create', 'rule:xena_system_admin_or_project_member'),
    PolicyRule('backup:get', 'rule:xena_system_admin_or_project_reader'),
    PolicyRule('backup:update', 'rule:xena_system_admin_or_project_member'),
    PolicyRule('backup:delete', 'rule:xena_system_admin_or_project_member'),
    PolicyRule('backup:restore', 'rule:xena_system_admin_or_project_member'),
    PolicyRule('backup:backup-import', 'rule:admin_api'),
    PolicyRule('backup:export-import', 'rule:admin_api'),
    # cinder/policies/base.py
    PolicyRule('admin_or_owner',
               'is_admin:True or (role:admin and is_admin_project:True) or '
               'project_id:%(project_id)s'),
    PolicyRule('system_or_domain_or_project_admin',
               '(role:admin and system_scope:all) or (role:admin and domain_id:%(domain_id)s) '
               'or (role:admin and project_id:%(project_id)s)'),
    PolicyRule('context_is_admin', 'role:admin'),
    PolicyRule('admin_api', 'is_admin:True or (role:admin and is_admin_project:True)'),
    PolicyRule('xena_system_admin_or_project_reader',
               '(role:admin) or (role:reader and project_id:%(project_id)s)'),
    PolicyRule('xena_system_admin_or_project_member',
               '(role:admin) or (role:member and project_id:%(project_id)s)'),
    # cinder/policies/capabilities.py
    PolicyRule('volume_extension:capabilities', 'rule:admin_api'),
    # cinder/policies/clusters.py
    PolicyRule('clusters:get_all', 'rule:admin_api'),
    PolicyRule('clusters:get', 'rule:admin_api'),
    PolicyRule('clusters:update', 'rule:admin_api'),
    # cinder/policies/default_types.py
    PolicyRule('volume_extension:default_set_or_update', 'rule:admin_api'),
    PolicyRule('volume_extension:default_get', 'rule:admin_api'),
    PolicyRule('volume_extension:default_get_all', 'rule:admin_api'),
    PolicyRule('volume_extension:default_unset', 'rule:admin_api'),
    # cinder/policies/group_actions.py
    PolicyRule('group:delete', 'rule:xena_system_admin_or_project_member'),
    PolicyRule('group:reset_status', 'rule:admin_api'),
    PolicyRule('group:enable_replication', 'rule:xena_system_admin_or_project_member'),
    PolicyRule('group:disable_replication', 'rule:xena_system_admin_or_project_member'),
    PolicyRule('group:failover_replication', 'rule:xena_system_admin_or_project_member'),
    PolicyRule('group:list_replication_targets', 'rule:xena_system_admin_or_project_member'),
    # cinder/policies/group_snapshot_actions.py
    PolicyRule('group:reset_group_snapshot_status', 'rule:admin_api'),
    # cinder/policies/group_snapshots.py
    PolicyRule('group:get_all_group_snapshots', 'rule:xena_system_admin_or_project_reader'),
    PolicyRule('group:create_group_snapshot', 'rule:xena_system_admin_or_project_member'),
    PolicyRule('group:get_group_snapshot', 'rule:xena_system_admin_or_project_reader'),
    PolicyRule('group:delete_group_snapshot', 'rule:xena_system_admin_or_project_member'),
    PolicyRule('group:update_group_snapshot', 'rule:xena_system_admin_or_project_member'),
    PolicyRule('group:group_snapshot_project_attribute', 'rule:admin_api'),
    # cinder/policies/group_types.py
    PolicyRule('group:group_types:create', 'rule:admin_api'),
    PolicyRule('group:group_types:update', 'rule:admin_api'),
    PolicyRule('group:group_types:delete', 'rule:admin_api'),
    PolicyRule('group:access_group_types_specs', 'rule:admin_api'),
    PolicyRule('group:group_types_specs:get', 'rule:admin_api'),
    PolicyRule('group:group_types_specs:get_all', 'rule:admin_api'),
    PolicyRule('group:group_types_specs:create', 'rule:admin_api'),
    PolicyRule('group:group_types_specs:update', 'rule:admin_api'),
    PolicyRule('group:group_types_specs:delete', 'rule:admin_api'),
    # cinder/policies/groups.py
    PolicyRule('group:get_all', 'rule:xena_system_admin_or_project_reader'),
    PolicyRule('group:create', 'rule:xena_system_admin_or_project_member'),
    PolicyRule('group:get', 'rule:xena_system_admin_or_project_reader'),
    PolicyRule('group:update', 'rule:xena_system_admin_or_project_member'),
    PolicyRule('group:group_project_attribute', 'rule:admin_api'),
    # cinder/policies/hosts.py
    PolicyRule('volume_extension:hosts', 'rule:admin_api'),
    # cinder/policies/limits.py
    PolicyRule('limits_extension:used_limits', 'rule:xena_system_admin_or_project_reader'),
    # cinder/policies/manageable_snapshots.py
    PolicyRule('snapshot_extension:list_manageable', 'rule:admin_api'),
    PolicyRule('snapshot_extension:snapshot_manage', 'rule:admin_api'),
    PolicyRule('snapshot_extension:snapshot_unmanage', 'rule:admin_api'),
    # cinder/policies/manageable_volumes.py
    PolicyRule('volume_extension:list_manageable', 'rule:admin_api'),
    PolicyRule('volume_extension:volume_manage', 'rule:admin_api'),
    PolicyRule('volume_extension:volume_unmanage', 'rule:admin_api'),
    # cinder/policies/messages.py
    PolicyRule('message:get_all', 'rule:xena_system_admin_or_project_reader'),
    PolicyRule('message:get', 'rule:xena_system_admin_or_project_reader'),
    PolicyRule('message:delete', 'rule:xena_system_admin_or_project_member'),
    # cinder/policies/qos_specs.py
    PolicyRule('volume_extension:qos_specs_manage:get_all', 'rule:admin_api'),
    PolicyRule('volume_extension:qos_specs_manage:get', 'rule:admin_api'),
    PolicyRule('volume_extension:qos_specs_manage:create', 'rule:admin_api'),
    PolicyRule('volume_extension:qos_specs_manage:update', 'rule:admin_api'),
    PolicyRule('volume_extension:qos_specs_manage:delete', 'rule:admin_api'),
    # cinder/policies/quota_class.py
    PolicyRule('volume_extension:quota_classes:get', 'rule:admin_api'),
    PolicyRule('volume_extension:quota_classes:update', 'rule:admin_api'),
    # cinder/policies/quotas.py
    PolicyRule('volume_extension:quotas:show', 'rule:xena_system_admin_or_project_reader'),
    PolicyRule('volume_extension:quotas:update', 'rule:admin_api'),
    PolicyRule('volume_extension:quotas:delete', 'rule:admin_api'),
    # cinder/policies/scheduler_stats.py
    PolicyRule('scheduler_extension:scheduler_stats:get_pools', 'rule:admin_api'),
    # cinder/policies/services.py
    PolicyRule('volume_extension:services:index', 'rule:admin_api'),
    PolicyRule('volume_extension:services:update', 'rule:admin_api'),
    PolicyRule('volume:freeze_host', 'rule:admin_api'),
    PolicyRule('volume:thaw_host', 'rule:admin_api'),
    PolicyRule('volume:failover_host', 'rule:admin_api'),
    # cinder/policies/snapshot_actions.py
    PolicyRule('volume_extension:snapshot_admin_actions:reset_status', 'rule:admin_api'),
    PolicyRule('snapshot_extension:snapshot_actions:update_snapshot_status',
               'rule:xena_system_admin_or_project_member'),
    PolicyRule('volume_extension:snapshot_admin_actions:force_delete', 'rule:admin_api'),
    # cinder/policies/snapshot_metadata.py
    PolicyRule('volume:get_snapshot_metadata', 'rule:xena_system_admin_or_project_reader'),
    PolicyRule('volume:update_snapshot_metadata', 'rule:xena_system_admin_or_project_member'),
    PolicyRule('volume:delete_snapshot_metadata', 'rule:xena_system_admin_or_project_member'),
    # cinder/policies/snapshots.py
    PolicyRule('volume:get_all_snapshots', 'rule:xena_system_admin_or_project_reader'),
    PolicyRule('volume_extension:extended_snapshot_attributes',
               'rule:xena_system_admin_or_project_reader'),
    PolicyRule('volume:create_snapshot', 'rule:xena_system_admin_or_project_member'),
    PolicyRule('volume:get_snapshot', 'rule:xena_system_admin_or_project_reader'),
    PolicyRule('volume:update_snapshot', 'rule:xena_system_admin_or_project_member'),
    PolicyRule('volume:delete_snapshot', 'rule:xena_system_admin_or_project_member'),
    # cinder/policies/type_extra_specs.py
    PolicyRule('volume_extension:types_extra_specs:index',
               'rule:xena_system_admin_or_project_reader'),
    PolicyRule('volume_extension:types_extra_specs:create', 'rule:admin_api'),
    PolicyRule('volume_extension:types_extra_specs:show',
               'rule:xena_system_admin_or_project_reader'),
    PolicyRule('volume_extension:types_extra_specs:read_sensitive', 'rule:admin_api'),
    PolicyRule('volume_extension:types_extra_specs:update', 'rule:admin_api'),
    PolicyRule('volume_extension:types_extra_specs:delete', 'rule:admin_api'),
    # cinder/policies/volume_access.py
    PolicyRule('volume_extension:volume_type_access', 'rule:xena_system_admin_or_project_member'),
    PolicyRule('volume_extension:volume_type_access:addProjectAccess', 'rule:admin_api'),
    PolicyRule('volume_extension:volume_type_access:removeProjectAccess', 'rule:admin_api'),
    PolicyRule('volume_extension:volume_type_access:get_all_for_type', 'rule:admin_api'),
    # cinder/policies/volume_actions.py
    PolicyRule('volume:extend', 'rule:xena_system_admin_or_project_member'),
    PolicyRule('volume:extend_attached_volume', 'rule:xena_system_admin_or_project_member'),
    PolicyRule('volume_extension:volume_admin_actions:extend_volume_completion', 'rule:admin_api'),
    PolicyRule('volume:revert_to_snapshot', 'rule:xena_system_admin_or_project_member'),
    PolicyRule('volume_extension:volume_admin_actions:reset_status', 'rule:admin_api'),
    PolicyRule('volume:retype', 'rule:xena_system_admin_or_project_member'),
    PolicyRule('volume:update_readonly_flag', 'rule:xena_system_admin_or_project_member'),
    PolicyRule('volume_extension:volume_admin_actions:force_delete', 'rule:admin_api'),
    PolicyRule('volume_extension:volume_actions:upload_public', 'rule:admin_api'),
    PolicyRule('volume_extension:volume_actions:upload_image',
               'rule:xena_system_admin_or_project_member'),
    PolicyRule('volume_extension:volume_admin_actions:force_detach', 'rule:admin_api'),
    PolicyRule('volume_extension:volume_admin_actions:migrate_volume', 'rule:admin_api'),
    PolicyRule('volume_extension:volume_admin_actions:migrate_volume_completion',
               'rule:admin_api'),
    PolicyRule('volume_extension:volume_actions:initialize_connection',
               'rule:xena_system_admin_or_project_member'),
    PolicyRule('volume_extension:volume_actions:terminate_connection',
               'rule:xena_system_admin_or_project_member'),
    PolicyRule('volume_extension:volume_actions:roll_detaching',
               'rule:xena_system_admin_or_project_member'),
    PolicyRule('volume_extension:volume_actions:reserve',
               'rule:xena_system_admin_or_project_member'),
    PolicyRule('volume_extension:volume_actions:unreserve',
               'rule:xena_system_admin_or_project_member'),
    PolicyRule('volume_extension:volume_actions:begin_detaching',
               'rule:xena_system_admin_or_project_member'),
    PolicyRule('volume_extension:volume_actions:attach',
               'rule:xena_system_admin_or_project_member'),
    PolicyRule('volume_extension:volume_actions:detach',
               'rule:xena_system_admin_or_project_member'),
    PolicyRule('volume:reimage', 'rule:xena_system_admin_or_project_member'),
    PolicyRule('volume:reimage_reserved', 'rule:xena_system_admin_or_project_member'),
    # cinder/policies/volume_metadata.py
    PolicyRule('volume:get_volume_metadata', 'rule:xena_system_admin_or_project_reader'),
    PolicyRule('volume:create_volume_metadata', 'rule:xena_system_admin_or_project_member'),
    PolicyRule('volume:update_volume_metadata', 'rule:xena_system_admin_or_project_member'),
    PolicyRule('volume:delete_volume_metadata', 'rule:xena_system_admin_or_project_member'),
    PolicyRule('volume_extension:volume_image_metadata:show',
               'rule:xena_system_admin_or_project_reader'),
    PolicyRule('volume_extension:volume_image_metadata:set',
               'rule:xena_system_admin_or_project_member'),
    PolicyRule('volume_extension:volume_image_metadata:remove',
               'rule:xena_system_admin_or_project_member'),
    PolicyRule('volume:update_volume_admin_metadata', 'rule:admin_api'),
    # cinder/policies/volume_transfer.py
    PolicyRule('volume:get_all_transfers', 'rule:xena_system_admin_or_project_reader'),
    PolicyRule('volume:create_transfer', 'rule:xena_system_admin_or_project_member'),
    PolicyRule('volume:get_transfer', 'rule:xena_system_admin_or_project_reader'),
    PolicyRule('volume:accept_transfer', 'rule:xena_system_admin_or_project_member'),
    PolicyRule('volume:delete_transfer', 'rule:xena_system_admin_or_project_member'),
    # cinder/policies/volume_type.py
    PolicyRule('volume_extension:type_create', 'rule:admin_api'),
    PolicyRule('volume_extension:type_update', 'rule:admin_api'),
    PolicyRule('volume_extension:type_delete', 'rule:admin_api'),
    PolicyRule('volume_extension:type_get', 'rule:xena_system_admin_or_project_reader'),
    PolicyRule('volume_extension:type_get_all', 'rule:xena_system_admin_or_project_reader'),
    PolicyRule('volume_extension:access_types_extra_specs',
               'rule:xena_system_admin_or_project_reader'),
    PolicyRule('volume_extension:access_types_qos_specs_id', 'rule:admin_api'),
    PolicyRule('volume_extension:volume_type_encryption', 'rule:admin_api'),
    PolicyRule('volume_extension:volume_type_encryption:create', 'rule:admin_api'),
    PolicyRule('volume_extension:volume_type_encryption:get', 'rule:admin_api'),
    PolicyRule('volume_extension:volume_type_encryption:update', 'rule:admin_api'),
    PolicyRule('volume_extension:volume_type_encryption:delete', 'rule:admin_api'),
    # cinder/policies/volumes.py
    PolicyRule('volume:create', 'rule:xena_system_admin_or_project_member'),
    PolicyRule('volume:create_from_image', 'rule:xena_system_admin_or_project_member'),
    PolicyRule('volume:get', 'rule:xena_system_admin_or_project_reader'),
    PolicyRule('volume:get_all', 'rule:xena_system_admin_or_project_reader'),
    PolicyRule('volume:update', 'rule:xena_system_admin_or_project_member'),
    PolicyRule('volume:delete', 'rule:xena_system_admin_or_project_member'),
    PolicyRule('volume:force_delete', 'rule:admin_api'),
    PolicyRule('volume_extension:volume_host_attribute', 'rule:admin_api'),
    PolicyRule('volume_extension:volume_tenant_attribute',
               'rule:xena_system_admin_or_project_reader'),
    PolicyRule('volume_extension:volume_mig_status_attribute', 'rule:admin_api'),
    PolicyRule('volume_extension:volume_encryption_metadata',
               'rule:xena_system_admin_or_project_reader'),
    PolicyRule('volume:multiattach', 'rule:xena_system_admin_or_project_member'),
    # cinder/policies/workers.py
    PolicyRule('workers:cleanup', 'rule:admin_api'),
)
