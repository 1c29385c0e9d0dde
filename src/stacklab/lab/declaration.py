"""The lab's own API (``/stacklab``): routes, policy and the lab it shows; no catalog entry."""

from __future__ import annotations

from stacklab.declaration import Key, ServiceDeclaration
from stacklab.lab.api import RULES, api
from stacklab.lab.service import Lab

LAB = Key("stacklab", Lab)

DECLARATION = ServiceDeclaration(api=api, mount="/stacklab", rules=RULES, key=LAB, build=Lab)
