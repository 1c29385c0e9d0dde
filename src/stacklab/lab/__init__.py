"""The lab's own API (``/stacklab/v1``): health, status, the central logs, node power."""
