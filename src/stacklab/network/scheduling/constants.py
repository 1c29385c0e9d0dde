"""neutron's names and numbers the schedulers use (neutron-lib's constants and neutron's own)."""

# neutron-lib constants.py
AGENT_TYPE_DHCP = "DHCP agent"
AGENT_TYPE_L3 = "L3 agent"
AGENT_TYPE_OVS = "Open vSwitch agent"
AGENT_TYPE_METADATA = "Metadata agent"
L3_AGENT_MODE = "agent_mode"
# neutron_lib/agent/constants.py: what the server answers an agent's report_state.
AGENT_NEW = "new"
AGENT_ALIVE = "alive"
AGENT_REVIVED = "revived"
L3_AGENT_MODE_LEGACY = "legacy"
L3_AGENT_MODE_DVR = "dvr"
L3_AGENT_MODE_DVR_SNAT = "dvr_snat"
L3_AGENT_MODE_DVR_NO_EXTERNAL = "dvr_no_external"
DEFAULT_AVAILABILITY_ZONE = "nova"  # neutron/conf/agent/common.py [AGENT] availability_zone
L3_HA_NET_CIDR = "169.254.192.0/18"
HA_NETWORK_NAME = "HA network project %s"
HA_SUBNET_NAME = "HA subnet project %s"
HA_PORT_NAME = "HA port project %s"
DEVICE_OWNER_ROUTER_HA_INTF = "network:router_ha_interface"
DEVICE_OWNER_DVR_INTERFACE = "network:router_interface_distributed"
DEVICE_OWNER_ROUTER_SNAT = "network:router_centralized_snat"  # a DVR router's sg- port
DEVICE_OWNER_AGENT_GW = "network:floatingip_agent_gateway"  # a DVR host's fg- port
DEVICE_OWNER_DHCP = "network:dhcp"
DEVICE_OWNER_COMPUTE_PREFIX = "compute:"
TRUNK_SUBPORT_OWNER = "trunk:subport"  # neutron_lib/services/trunk/constants.py
LINUX_DEV_LEN = 14
PRIVATE_CIDR_RANGE = "169.254.0.0/16"
METADATA_V4_CIDR = "169.254.169.254/32"
DVR_FIP_LL_CIDR = "169.254.64.0/18"
# neutron/common/_constants.py
LOWEST_AGENT_BINDING_INDEX = 1
# neutron/db/l3_hamode_db.py: ``VR_ID_RANGE = set(range(1, 255))``, so 254 VRIDs a project.
VR_ID_RANGE = range(1, 255)
MAX_ALLOCATION_TRIES = 10
# neutron/agent/l3/ha_router.py and neutron/agent/linux/keepalived.py (keepalived's own
# numbers for neutron are in stacklab.ha.vrrp).
HA_DEV_PREFIX = "ha-"
PRIMARY_VIP_RANGE_SIZE = 24
