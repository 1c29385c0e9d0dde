"""The bus topics between neutron-server and its agents (neutron_lib.agent.topics' names)."""

# What the server consumes.
REPORTS_TOPIC = "q-reports-plugin"
PLUGIN_TOPIC = "q-plugin"
L3_PLUGIN_TOPIC = "q-l3-plugin"
# What the agents consume: the L2 agents' fanouts, each DHCP and L3 agent's own topic
# (``dhcp_agent.<host>``, ``l3_agent.<host>``).
PORT_UPDATE_TOPIC = "q-agent-notifier-port-update"
PORT_DELETE_TOPIC = "q-agent-notifier-port-delete"
DHCP_AGENT_TOPIC = "dhcp_agent"
L3_AGENT_TOPIC = "l3_agent"
# Not neutron's: the HA routers' VRRP adverts between network nodes whose keepalived run
# in different OS processes (``stacklab up --processes``), a fanout standing for the
# multicast (224.0.0.18) on the router's HA network.
VRRP_TOPIC = "stacklab-vrrp"
