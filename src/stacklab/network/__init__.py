"""Networking (neutron v2.0): networks, subnets, ports, routers, and the agents of the lab."""
