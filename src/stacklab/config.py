"""One configuration file, in OpenStack's sections and option names.

A snippet from any OpenStack guide (``[token] expiration = 7200``,
``[DEFAULT] debug = true``) works as it is. Every section is a dataclass
whose defaults are upstream's; the lab's own settings are layered on top by
the topology (see ``topology``), and the file layered on top of those.
"""

from __future__ import annotations

import configparser
import dataclasses
import logging
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

LOG = logging.getLogger(__name__)


@dataclass
class DefaultOptions:
    debug: bool = False
    # nova and neutron service-group timers; upstream defaults.
    report_interval: int = 10
    service_down_time: int = 60
    # oslo.messaging: "Seconds to wait for a response from a call." (the lab's seconds)
    rpc_response_timeout: int = 60
    # oslo.messaging's broker: empty keeps the embedded in-process bus; a
    # rabbit://user:password@host:5672/vhost URL puts RPC and notifications on that
    # RabbitMQ in oslo.messaging's wire format (the extra stacklab[rabbitmq]; docs/bus.md).
    transport_url: str = ""
    # How many processes serve each API on its one port, with `stacklab up --processes`
    # (keystone, glance, nova-api, cinder-api, heat-api; docs/processes.md); nova's and
    # cinder's own options for theirs ([heat_api] workers for heat's), 0: api_workers.
    # Upstream's default is the CPU count; the lab's is one, the lab's machines being
    # small (one process serves all in the embedded shape).
    api_workers: int = 1
    osapi_compute_workers: int = 0
    osapi_volume_workers: int = 0
    # The exchange RPC and notifications use on the broker. Upstream each service sets its
    # own (nova, neutron, cinder, heat); empty keeps that, a name puts every service on it.
    control_exchange: str = ""
    # How long nova-compute waits for neutron's network-vif-plugged of a new server's
    # ports, and whether a port not plugged in that time fails the build; upstream defaults.
    vif_plugging_timeout: int = 300
    vif_plugging_is_fatal: bool = True
    # nova's deferred delete: with a positive interval a deleted server is SOFT_DELETED
    # (restorable) and its compute reclaims it once that many seconds have passed.
    reclaim_instance_interval: int = 0
    # How long nova-compute waits for cinder's volume-reimaged (2.93's rebuild of a
    # volume-backed server), in seconds per GB of the image; upstream default.
    reimage_timeout_per_gb: int = 20
    # nova-compute's periodic power-state sync (s; 0: every 60 s, negative: never); upstream
    # default. It is what turns the servers of a compute that lost power SHUTOFF once back.
    sync_power_state_interval: int = 600
    # nova's zone of a compute host in no zoned aggregate; upstream default.
    default_availability_zone: str = "nova"
    # glance-api.conf's limits on image data.
    image_size_cap: int = 1099511627776
    user_storage_quota: int = 0
    # glance-api.conf's import methods (a list: "a,b" or glance's "[a,b]"). glance enables
    # glance-direct, web-download and copy-image by default; the lab has one store, so no
    # copy-image, and offers glance-download (within its own region).
    enabled_import_methods: str = "glance-direct,web-download,glance-download"
    # neutron.conf's agent scheduling and HA router options; upstream defaults.
    agent_down_time: int = 75
    dhcp_agents_per_network: int = 1
    allow_automatic_dhcp_failover: bool = True
    l3_ha: bool = False
    max_l3_agents_per_router: int = 3
    # Removed upstream in Ocata; the course's snippet still sets it (accepted, warned about).
    min_l3_agents_per_router: int | None = None
    allow_automatic_l3agent_failover: bool = False
    l3_ha_net_cidr: str = "169.254.192.0/18"
    ha_vrrp_advert_int: int = 2
    router_distributed: bool = False
    # cinder.conf: the backends each cinder-volume runs (one section each, the lab's
    # ``[lvm]``), the zone of its services and volumes, the type a volume gets when none
    # is asked for, and the quota defaults (cinder/quota.py); upstream defaults.
    enabled_backends: str = ""
    storage_availability_zone: str = "nova"
    allow_availability_zone_fallback: bool = False
    default_volume_type: str = "__DEFAULT__"
    quota_volumes: int = 10
    quota_snapshots: int = 10
    quota_gigabytes: int = 1000
    quota_backups: int = 10
    quota_backup_gigabytes: int = 1000
    quota_groups: int = 10
    per_volume_size_limit: int = -1
    # cinder.conf: whether os-volume_upload_image's force uploads an in-use volume (off:
    # force is ignored, upstream's default).
    enable_force_upload: bool = False
    # cinder.conf: how long a user message is kept at least (s, cinder/message/api.py).
    message_ttl: int = 2592000
    # heat.conf: "Enable the preview Stack Abandon feature" and "... Stack Adopt feature";
    # both off upstream (heat/common/config.py). The lab turns them on (topology/lab.yaml).
    enable_stack_abandon: bool = False
    enable_stack_adopt: bool = False
    # heat.conf's limits (heat/common/config.py), upstream defaults; -1 lifts the two
    # counts. A template's raw size, the depth of nested stacks, the resources of a
    # top-level stack's template, a project's live top-level stacks (an admin has none).
    max_template_size: int = 524288
    max_nested_stack_depth: int = 5
    max_resources_per_stack: int = 1000
    max_stacks_per_tenant: int = 512
    # heat-api's bound on a request's JSON body (bytes; heat/common/wsgi.py), instead of
    # oslo.middleware's max_request_body_size, which heat's pipeline does not have.
    max_json_body_size: int = 1048576


@dataclass
class StacklabOptions:
    """Options of stacklab itself (not OpenStack's)."""

    bind_host: str = "127.0.0.1"
    bind_port: int = 8080
    # Host clients use in catalog URLs; the server still binds to bind_host.
    public_host: str = "127.0.0.1"
    state_dir: str = "~/.local/share/stacklab"
    ephemeral: bool = False
    seed: int | None = None
    topology: str = ""
    init_hooks_dir: str = ""
    admin_password: str = "secret"
    region: str = "RegionOne"
    # How long the simulated hypervisors take: "fast" (no waiting) or "realistic" (seconds).
    boot_profile: str = "fast"
    # Real seconds one second of the lab's time takes: 1.0 is the real lab, 0.1 runs it
    # ten times faster, 0.01 elects an HA router's master in 68 ms instead of 6.8 s. Every
    # timer of the services on the lab's nodes runs on that one scaled clock: nova's
    # report_interval and service_down_time, neutron's agent report_interval and
    # agent_down_time and the server's failover checks (DHCP, L3), keepalived and the L3
    # agents' state reports, the boot profile's steps, nova-compute's vif-plugging wait and
    # reclaim period. At 0.1 a compute that stops reporting is down after 6 s and an agent
    # dead after 7.5 s. So do RabbitMQ's net_ticktime, the clients' heartbeats and
    # reconnection backoff, and RPC's rpc_response_timeout. Records keep wall-clock stamps
    # (updated_at, heartbeat_timestamp), whose age is read in the lab's seconds; tokens and
    # API timeouts stay real.
    ha_time_scale: float = 1.0
    # The lab's RabbitMQ (rabbitmq.conf; kolla's rabbitmq_cluster_partition_handling):
    # pause_minority or ignore, and Erlang's net_ticktime (s).
    rabbitmq_cluster_partition_handling: str = "pause_minority"
    rabbitmq_net_ticktime: float = 60.0
    # Who places the API VIPs on the proxies: "keepalived" (kolla's VRRP instance, the
    # default) or "pacemaker" (the HA guide's two-node Pacemaker/Corosync cluster: the VIPs
    # as IPaddr2 with a haproxy clone colocated, quorum two_node, fencing by power cycle;
    # docs/pacemaker.md). The request path asks either one who holds the VIPs.
    vip_manager: str = "keepalived"
    # The lab's Ceph cluster (ceph.conf [global]; stacklab.ha.ceph): its pools' size and
    # min_size (0: Ceph's rule, size - size/2, so 1 for size 2), and how its monitors
    # learn of a dead OSD. Ceph's own defaults are size 3 and 2 down reporters; the lab's
    # two storage nodes hold size 2 and need 1 reporter to mark the other down.
    ceph_osd_pool_default_size: int = 2
    ceph_osd_pool_default_min_size: int = 0
    ceph_osd_heartbeat_grace: float = 20.0
    ceph_mon_osd_min_down_reporters: int = 1
    ceph_mon_osd_report_timeout: float = 900.0
    ceph_mon_osd_down_out_interval: float = 600.0
    # Whether the controllers' glance-api share one file store (true: stacklab's default,
    # as if filesystem_store_datadir were a shared mount) or each has its own local one
    # (false: an image's bytes are only on the controller that took the upload, the
    # course's "filesystem store is a single point of failure"; docs/ceph.md).
    glance_file_store_shared: bool = True


@dataclass
class DatabaseOptions:
    connection: str = ""


@dataclass
class TokenOptions:
    expiration: int = 3600
    provider: str = "fernet"
    revoke_by_id: bool = True
    allow_expired_window: int = 172800
    cache_on_issue: bool = True


@dataclass
class FernetTokensOptions:
    key_repository: str = ""
    max_active_keys: int = 3


@dataclass
class IdentityOptions:
    default_domain_id: str = "default"
    password_hash_algorithm: str = "bcrypt"
    # Upstream's default is 12 rounds (about 0.25 s a hash). The lab is a
    # test cloud: config.lab_defaults() lowers it so password auth is fast.
    password_hash_rounds: int = 12
    max_password_length: int = 4096
    list_limit: int | None = None


@dataclass
class TrustOptions:
    """keystone's [trust] section."""

    max_redelegation_count: int = 3


@dataclass
class OAuth1Options:
    """keystone's [oauth1] section: how long request and access tokens live (0: forever)."""

    request_token_duration: int = 28800
    access_token_duration: int = 86400


@dataclass
class ResourceOptions:
    project_name_url_safe: str = "off"
    domain_name_url_safe: str = "off"


@dataclass
class QuotaOptions:
    """nova's [quota] defaults."""

    instances: int = 10
    cores: int = 20
    ram: int = 51200
    metadata_items: int = 128
    injected_files: int = 5
    injected_file_content_bytes: int = 10240
    injected_file_path_length: int = 255
    key_pairs: int = 100
    server_groups: int = 10
    server_group_members: int = 10


@dataclass
class FilterSchedulerOptions:
    """nova's [filter_scheduler]: ``enabled_filters`` is a comma-separated list (an oslo
    ListOpt), nova's default list unless set."""

    enabled_filters: str = ("ComputeFilter,ComputeCapabilitiesFilter,ImagePropertiesFilter,"
                            "ServerGroupAntiAffinityFilter,ServerGroupAffinityFilter")

    def filters(self) -> tuple[str, ...]:
        return tuple(name.strip() for name in self.enabled_filters.split(",") if name.strip())


@dataclass
class SchedulerOptions:
    """nova's [scheduler]: how many hosts a build is tried on before it fails (the first
    and its reschedules); upstream default."""

    max_attempts: int = 3


@dataclass
class LibvirtOptions:
    """nova-compute's [libvirt] image backend: where servers' root disks live. ``default``
    (or ``qcow2``, ``raw``, ``flat``): a file on the compute node's own disk; ``rbd``: an
    RBD image ``<server>_disk`` in ``images_rbd_pool`` of the lab's Ceph cluster (the
    storage nodes), which outlives its compute. ``rbd_connect_timeout`` is how long
    librados waits for the cluster (upstream's defaults; the lab's pool is ``vms``)."""

    images_type: str = "default"
    images_rbd_pool: str = "rbd"
    images_rbd_ceph_conf: str = ""
    rbd_user: str = ""
    rbd_connect_timeout: int = 5


@dataclass
class VolumeBackendOptions:
    """A cinder backend's section (the lab's ``[lvm]``): its name in the scheduler, its
    driver, the host it reports as (``backend_host``, for active/passive) and how far its
    thin pool may be over-subscribed; upstream defaults. The pool's size is the volume
    group's: stacklab gives it the node's disk (``volume_group_size_gb`` 0) unless set."""

    volume_backend_name: str = ""
    volume_driver: str = "cinder.volume.drivers.lvm.LVMVolumeDriver"
    backend_host: str = ""
    max_over_subscription_ratio: float = 20.0
    reserved_percentage: int = 0
    lvm_type: str = "auto"
    volume_group: str = "cinder-volumes"
    volume_group_size_gb: int = 0
    # The RBD driver's (cinder/volume/drivers/rbd.py RBD_OPTS); upstream defaults.
    rbd_pool: str = "rbd"
    rbd_user: str = ""
    rbd_ceph_conf: str = ""
    rados_connect_timeout: int = -1


RBD_DRIVER = "cinder.volume.drivers.rbd.RBDDriver"


@dataclass
class GlanceStoreOptions:
    """glance-api.conf's [glance_store]: the stores glance loads and the one new images
    go to (glance_store's defaults: file and http, default file), and the rbd store's
    options (glance_store/_drivers/rbd.py)."""

    stores: str = "file,http"
    default_store: str = "file"
    filesystem_store_datadir: str = "/var/lib/glance/images/"
    rbd_store_pool: str = "images"
    rbd_store_user: str = ""
    rbd_store_ceph_conf: str = "/etc/ceph/ceph.conf"
    rados_connect_timeout: int = -1


@dataclass
class AgentOptions:
    """neutron agents' [AGENT] section."""

    report_interval: float = 30.0


@dataclass
class OsloMessagingRabbitOptions:
    """oslo.messaging's [oslo_messaging_rabbit] options the lab's clients follow."""

    heartbeat_timeout_threshold: float = 60.0
    rabbit_retry_interval: float = 1.0
    rabbit_retry_backoff: float = 2.0
    rabbit_interval_max: float = 30.0
    kombu_reconnect_delay: float = 1.0
    # x-expires of fanout and reply queues on a real broker ([DEFAULT] transport_url), s.
    rabbit_transient_queues_ttl: int = 1800


@dataclass
class OsloMessagingNotificationsOptions:
    """oslo.messaging's [oslo_messaging_notifications], for the bus on a broker: ``driver``
    messagingv2 (or messaging, v1) sends notifications to it, on each of ``topics`` (a
    list, "a,b"); upstream's default driver sends none. The in-process bus ignores both."""

    driver: str = ""
    topics: str = "notifications"


@dataclass
class NotificationsOptions:
    """nova's [notifications] (nova/conf/notifications.py, upstream defaults): which of its
    notifications go out, the legacy ``compute.instance.*`` (``unversioned``), the versioned
    ``instance.*`` (``versioned``) or ``both``, and the topics of the versioned ones (a
    list, "a,b"). The legacy ones go to [oslo_messaging_notifications] topics."""

    notification_format: str = "unversioned"
    versioned_notifications_topics: str = "versioned_notifications"

    def topics(self) -> tuple[str, ...]:
        return tuple(topic.strip() for topic in self.versioned_notifications_topics.split(",")
                     if topic.strip())


@dataclass
class OsloPolicyOptions:
    policy_file: str = ""
    enforce_scope: bool = True
    enforce_new_defaults: bool = True


@dataclass
class ImportFilteringOptions:
    """glance-api.conf's [import_filtering_opts]: which URIs web-download (and a legacy
    import task) may fetch. Lists as in [DEFAULT] enabled_import_methods; an empty list
    says nothing. Upstream allows any host on ports 80 and 443; stacklab must not send
    traffic to arbitrary hosts, so its default is loopback addresses only, on any port
    (an operator widens ``allowed_hosts`` deliberately). Host names are compared as
    written: an allowed name is trusted to resolve where its operator means."""

    allowed_schemes: str = "http,https"
    disallowed_schemes: str = ""
    allowed_hosts: str = "127.0.0.1,::1"
    disallowed_hosts: str = ""
    allowed_ports: str = ""
    disallowed_ports: str = ""


@dataclass
class ImageFormatOptions:
    """glance-api.conf's [image_format] options on the inspection of uploaded data
    (glance/common/config.py; upstream defaults). ``gpt_safety_checks_nonfatal`` is a
    list as in [DEFAULT] enabled_import_methods ("mbr", "gptmbr" ...)."""

    require_image_format_match: bool = True
    gpt_safety_checks_nonfatal: str = ""


@dataclass
class OsloMiddlewareOptions:
    max_request_body_size: int = 114688


@dataclass
class HeatApiOptions:
    # heat.conf's [heat_api] workers: heat-api's processes (heat-api-cfn's with them, one
    # role in the lab); 0, upstream's default, takes [DEFAULT] api_workers here.
    workers: int = 0


@dataclass
class Config:
    DEFAULT: DefaultOptions = field(default_factory=DefaultOptions)
    stacklab: StacklabOptions = field(default_factory=StacklabOptions)
    database: DatabaseOptions = field(default_factory=DatabaseOptions)
    token: TokenOptions = field(default_factory=TokenOptions)
    fernet_tokens: FernetTokensOptions = field(default_factory=FernetTokensOptions)
    identity: IdentityOptions = field(default_factory=IdentityOptions)
    resource: ResourceOptions = field(default_factory=ResourceOptions)
    trust: TrustOptions = field(default_factory=TrustOptions)
    oauth1: OAuth1Options = field(default_factory=OAuth1Options)
    quota: QuotaOptions = field(default_factory=QuotaOptions)
    filter_scheduler: FilterSchedulerOptions = field(default_factory=FilterSchedulerOptions)
    scheduler: SchedulerOptions = field(default_factory=SchedulerOptions)
    libvirt: LibvirtOptions = field(default_factory=LibvirtOptions)
    oslo_policy: OsloPolicyOptions = field(default_factory=OsloPolicyOptions)
    oslo_middleware: OsloMiddlewareOptions = field(default_factory=OsloMiddlewareOptions)
    import_filtering_opts: ImportFilteringOptions = field(
        default_factory=ImportFilteringOptions)
    image_format: ImageFormatOptions = field(default_factory=ImageFormatOptions)
    AGENT: AgentOptions = field(default_factory=AgentOptions)
    oslo_messaging_rabbit: OsloMessagingRabbitOptions = field(
        default_factory=OsloMessagingRabbitOptions)
    oslo_messaging_notifications: OsloMessagingNotificationsOptions = field(
        default_factory=OsloMessagingNotificationsOptions)
    notifications: NotificationsOptions = field(default_factory=NotificationsOptions)
    lvm: VolumeBackendOptions = field(default_factory=VolumeBackendOptions)
    # The lab's shared backend once Ceph is configured (enabled_backends = lvm,ceph).
    ceph: VolumeBackendOptions = field(default_factory=VolumeBackendOptions)
    glance_store: GlanceStoreOptions = field(default_factory=GlanceStoreOptions)
    heat_api: HeatApiOptions = field(default_factory=HeatApiOptions)

    def volume_backend(self, name: str) -> VolumeBackendOptions:
        """The section of backend ``name`` (one of ``enabled_backends``): the lab's ``[lvm]``
        or ``[ceph]``; another name has no section of its own here and gets upstream's defaults."""
        section = getattr(self, name, None)
        if isinstance(section, VolumeBackendOptions):
            return section
        return VolumeBackendOptions()

    @property
    def state_path(self) -> Path:
        return Path(self.stacklab.state_dir).expanduser()

    def has_option(self, section: str, name: str) -> bool:
        group = getattr(self, section, None)
        return dataclasses.is_dataclass(group) and name in get_type_hints(type(group))

    def set(self, section: str, name: str, raw: Any) -> None:
        """Set one option from text (or an already typed value)."""
        group = getattr(self, section, None)
        if group is None or not dataclasses.is_dataclass(group):
            LOG.warning("unknown config section [%s] ignored", section)
            return
        hints = get_type_hints(type(group))
        if name not in hints:
            LOG.warning("unknown option [%s] %s ignored", section, name)
            return
        setattr(group, name, _coerce(hints[name], raw, f"[{section}] {name}"))

    def load_file(self, path: Path) -> None:
        parser = configparser.ConfigParser(interpolation=None, default_section="__none__")
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        with path.open() as handle:
            parser.read_file(handle)
        for section in parser.sections():
            for name, value in parser.items(section):
                self.set(section, name, value)


def _coerce(kind: Any, raw: Any, where: str) -> Any:
    if get_origin(kind) in (Union, types.UnionType):
        args = [a for a in get_args(kind) if a is not type(None)]
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            return None
        kind = args[0]
    if not isinstance(raw, str):
        return raw
    text = raw.strip()
    try:
        if kind is bool:
            lowered = text.lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        if kind is int:
            return int(text)
        if kind is float:
            return float(text)
    except ValueError as exc:
        raise ValueError(f"{where}: cannot read {raw!r} as {kind.__name__}") from exc
    return text


def lab_defaults(config: Config) -> Config:
    """The lab's own settings on top of upstream defaults."""
    config.identity.password_hash_rounds = 4
    # bcrypt alone reads only a password's first 72 bytes; keystone's bcrypt_sha256 reads
    # all of it and verifies the plain bcrypt hashes of earlier state directories too.
    config.identity.password_hash_algorithm = "bcrypt_sha256"
    # The course's neutron.conf: two DHCP agents per network, HA routers on up to three.
    config.DEFAULT.dhcp_agents_per_network = 2
    config.DEFAULT.l3_ha = True
    config.DEFAULT.max_l3_agents_per_router = 3
    config.DEFAULT.min_l3_agents_per_router = 2
    # The course's cinder.conf: one lvm backend on each cinder-volume node.
    config.DEFAULT.enabled_backends = "lvm"
    config.lvm.volume_backend_name = "lvm"
    # The course's heat.conf: stacks are abandoned and adopted (off upstream).
    config.DEFAULT.enable_stack_abandon = True
    config.DEFAULT.enable_stack_adopt = True
    lab_ceph_backend(config)
    return config


def lab_ceph_backend(config: Config) -> None:
    """The lab's ``[ceph]`` backend section, ready for ``enabled_backends = lvm,ceph``:
    volumes in the cluster's ``volumes`` pool, one cinder-volume service (``backend_host``)
    that either controller's process serves (active/passive), and kolla's
    rados_connect_timeout of 5 s (upstream's -1 waits librados' 300 s)."""
    config.ceph.volume_backend_name = "ceph"
    config.ceph.volume_driver = RBD_DRIVER
    config.ceph.rbd_pool = "volumes"
    config.ceph.rbd_user = "cinder"
    config.ceph.rbd_ceph_conf = "/etc/ceph/ceph.conf"
    config.ceph.backend_host = "rbd:volumes"
    config.ceph.rados_connect_timeout = 5
    config.glance_store.rbd_store_user = "glance"
    # nova's [libvirt] rbd options, ready for ``images_type = rbd`` (kolla's: the ``vms``
    # pool, the cinder user).
    config.libvirt.images_rbd_pool = "vms"
    config.libvirt.images_rbd_ceph_conf = "/etc/ceph/ceph.conf"
    config.libvirt.rbd_user = "cinder"
    config.glance_store.rados_connect_timeout = 5
