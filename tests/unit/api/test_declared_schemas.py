"""Every request schema a service declares is itself valid JSON Schema, in every range."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from stacklab.api.validation import Schema
from stacklab.compute.api import api as compute_api
from stacklab.identity.api import api as identity_api
from stacklab.image.api import api as image_api

OPERATIONS = [op for service in (identity_api, image_api, compute_api)
              for op in service.operations if op.schema is not None]


def _declared() -> list[tuple[str, Schema]]:
    """Each schema with where it is declared: routes, each version range, each action."""
    found = []
    for service in (identity_api, image_api, compute_api):
        for op in service.operations:
            for versions, schema in op.schemas.ranges:
                found.append((f"{service.name} {op.name} {versions}", schema))
            for action in (op.actions.actions.values() if op.actions else ()):
                for versions, schema in action.schemas.ranges:
                    found.append((f"{service.name} {op.name} {action.name} {versions}",
                                  schema))
    return found


DECLARED = _declared()


def test_services_declare_schemas() -> None:
    assert len(OPERATIONS) > 30
    # Compute's versioned ones count too: the server actions alone have more than 40.
    assert sum("/servers/{server_id}/action " in label for label, _ in DECLARED) > 40


@pytest.mark.parametrize(("label", "schema"), DECLARED, ids=[label for label, _ in DECLARED])
def test_declared_schema_is_valid(label: str, schema: Schema) -> None:
    Draft202012Validator.check_schema(schema.schema)
