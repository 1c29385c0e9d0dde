"""heat-engine: the workers that build, change and remove stacks (heat's legacy engine).

``worker`` is one heat-engine process (an RPC server on the bus, its stack lock and the
tasks it runs), ``stack`` one action on one stack (its dependency graph walked with
asyncio tasks), ``clients`` the way out to the other services (keystone trusts, then
the services' public APIs with trust-scoped tokens), ``store`` what is kept.
"""
