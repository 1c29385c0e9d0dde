"""Log lines of the lab's daemons (keepalived, haproxy, mysqld), each as its node and process.

A state change may happen while some request is being served (it asked for the
present, or it is the lab API's fault that caused it): the line must name the
daemon's node and process, not that request's, and must leave the request's
context as it was. So each line is written from a context of its own.
"""

from __future__ import annotations

import contextvars
import logging

from stacklab.observability import logging as obs


def daemon_log(logger: logging.Logger, node: str, service: str, message: str,
               *args: object, level: int = logging.INFO) -> None:
    def write() -> None:
        obs.set_node(node)
        obs.set_service(service)
        logger.log(level, message, *args)

    contextvars.Context().run(write)
