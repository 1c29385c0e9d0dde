"""The lab's own API (``/stacklab``): routes and policy only, no catalog entry, no objects."""

from __future__ import annotations

from stacklab.declaration import ServiceDeclaration
from stacklab.lab.api import RULES, api

DECLARATION: ServiceDeclaration[None] = ServiceDeclaration(api=api, mount="/stacklab",
                                                           rules=RULES)
