"""Heat's resource types: one plugin class per type, found through ``registry``.

The engine (``stacklab.orchestration.engine``) owns the stack, its order and its states;
a plugin only knows how to make, change, read and remove one resource of its type
through the other services' public APIs (``base.Context.call``).
"""
