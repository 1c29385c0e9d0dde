"""The lab's shared infrastructure as state machines with their real timers: the load
balancer (HAProxy), the VIPs' keepalived, the Galera cluster and the RabbitMQ cluster.

Each is pure logic driven by the cloud's clock and the runtime's view of who is
powered and who reaches whom (``stacklab.topology.Runtime``); the cloud's wiring
routes requests, queries and messages through them.
"""
