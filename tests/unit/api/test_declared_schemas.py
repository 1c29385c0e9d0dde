"""Every request schema a service declares is itself valid JSON Schema."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from stacklab.compute.api import api as compute_api
from stacklab.compute.schemas import SERVER_GROUP_CREATE
from stacklab.identity.api import api as identity_api
from stacklab.image.api import api as image_api

OPERATIONS = [op for service in (identity_api, image_api, compute_api)
              for op in service.operations if op.schema is not None]


def test_services_declare_schemas() -> None:
    assert len(OPERATIONS) > 30


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: f"{op.service} {op.name}")
def test_declared_schema_is_valid(operation: object) -> None:
    schema = operation.schema  # type: ignore[attr-defined]
    Draft202012Validator.check_schema(schema.schema)


@pytest.mark.parametrize("version", sorted(SERVER_GROUP_CREATE))
def test_versioned_schemas_are_valid(version: str) -> None:
    Draft202012Validator.check_schema(SERVER_GROUP_CREATE[version])
