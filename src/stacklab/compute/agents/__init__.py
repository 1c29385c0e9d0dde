"""The nova services that run on the lab's nodes and talk over the bus.

nova-conductor and nova-scheduler on each controller, nova-compute on each
compute node, as in the lab; nova-api (compute/api) casts to the conductor
and to the computes, and calls the computes for what it must answer with
(console output, console URLs).
"""
