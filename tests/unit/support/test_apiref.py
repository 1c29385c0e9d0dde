"""support.apiref: upstream schemas, OpenAPI specs and samples as oracles for response bodies."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from support import apiref
from support.apiref import (
    API_REF,
    ENV_VAR,
    REQUIRE_ENV_VAR,
    ApiRefNotFoundError,
    InvalidSchemaError,
    api_ref,
    assert_keystone_response,
    assert_nova_response,
    assert_shape_like_sample,
    assert_valid,
    keystone_request_schema,
    keystone_response_schema,
    nova_request_schema,
    nova_response_schema,
    nova_sample,
    nova_success_code,
    openapi_request_schema,
    openapi_response_schema,
    sample,
    select_action,
    select_microversion,
)

KEYSTONE = "api-ref/source/v3/samples/admin/"
UUID_HEX = "5b50efd009b540559104ee3c03bbb2b7"


def ks_sample(name: str) -> Any:
    return sample("keystone", KEYSTONE + name)


# --------------------------------------------------------------------------- locating the data


def test_api_ref_is_found_beside_the_checkout() -> None:
    root = api_ref()  # skips this test on a clone with nothing beside it
    assert root == API_REF
    assert (root / "README.md").is_file()
    assert (root / "derived" / "nova" / "compute-v2.1.schemas.json").is_file()


def test_env_var_overrides_the_search(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert apiref._locate_api_ref() == tmp_path.resolve()


def _every_reader() -> list[Callable[[], object]]:
    return [
        api_ref,
        lambda: keystone_response_schema("/v3/projects/{project_id}", "GET"),
        lambda: nova_response_schema("/flavors/{id}", "GET", "2.1"),
        lambda: openapi_response_schema("identity", "/v3/auth/tokens", "POST", "201"),
        lambda: ks_sample("project-show-response.json"),
        lambda: nova_sample("flavors", "flavor-get-resp.json"),
    ]


@pytest.fixture
def no_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    nowhere = tmp_path / "nowhere"
    monkeypatch.setattr(apiref, "API_REF", nowhere)
    return nowhere


@pytest.mark.parametrize("value", ["", "0"])
def test_missing_data_skips_with_a_reason_naming_where_it_looked(
    monkeypatch: pytest.MonkeyPatch, no_data: Path, value: str
) -> None:
    monkeypatch.setenv(REQUIRE_ENV_VAR, value)
    for read in _every_reader():
        with pytest.raises(pytest.skip.Exception) as skipped:
            read()
        reason = str(skipped.value)
        assert str(no_data) in reason
        assert ENV_VAR in reason and f"{REQUIRE_ENV_VAR}=1" in reason
        # Module level too: a module that builds its cases from the data is skipped whole.
        assert skipped.value.allow_module_level


def test_missing_data_fails_loudly_where_required(
    monkeypatch: pytest.MonkeyPatch, no_data: Path
) -> None:
    monkeypatch.setenv(REQUIRE_ENV_VAR, "1")
    for read in _every_reader():
        with pytest.raises(ApiRefNotFoundError, match=REQUIRE_ENV_VAR) as failed:
            read()
        assert str(no_data) in str(failed.value)


# --------------------------------------------------------------------------- derived keystone

KEYSTONE_RESPONSES = [
    ("project-show-response.json", "/v3/projects/{project_id}", "GET"),
    ("user-show-response.json", "/v3/users/{user_id}", "GET"),
    ("role-show-response.json", "/v3/roles/{role_id}", "GET"),
    ("domain-show-response.json", "/v3/domains/{domain_id}", "GET"),
    ("projects-list-response.json", "/v3/projects", "GET"),
    ("users-list-response.json", "/v3/users", "GET"),
    ("roles-list-response.json", "/v3/roles", "GET"),
    ("domains-list-response.json", "/v3/domains", "GET"),
    ("project-create-response.json", "/v3/projects", "POST"),
    ("domain-create-response.json", "/v3/domains", "POST"),
]


@pytest.mark.parametrize(("name", "path", "method"), KEYSTONE_RESPONSES)
def test_keystone_samples_validate_against_keystone_schemas(
    name: str, path: str, method: str
) -> None:
    schema = keystone_response_schema(path, method)
    assert schema is not None
    assert_valid(ks_sample(name), schema, where=name)
    assert_keystone_response(ks_sample(name), path, method)


@pytest.mark.parametrize(
    ("name", "path", "entity", "field", "bad"),
    [
        ("project-show-response.json", "/v3/projects/{id}", "project", "domain_id", "no spaces!"),
        ("user-show-response.json", "/v3/users/{id}", "user", "enabled", "yes"),
        ("role-show-response.json", "/v3/roles/{id}", "role", "name", ""),
        ("domain-show-response.json", "/v3/domains/{id}", "domain", "options", {"bogus": 1}),
    ],
)
def test_mutated_keystone_sample_fails_naming_the_field(
    name: str, path: str, entity: str, field: str, bad: Any
) -> None:
    body = ks_sample(name)
    body[entity][field] = bad
    with pytest.raises(AssertionError, match=rf"\$\.{entity}\.{field}") as info:
        assert_keystone_response(body, path, "GET")
    assert f"keystone GET {path}" in str(info.value)


def test_every_error_is_listed() -> None:
    body = ks_sample("project-show-response.json")
    body["project"]["enabled"] = "maybe"
    body["project"]["is_domain"] = "maybe"
    schema = keystone_response_schema("/v3/projects/{project_id}", "GET")
    assert schema is not None
    with pytest.raises(AssertionError) as info:
        assert_valid(body, schema, where="project show")
    message = str(info.value)
    assert "project show does not match its schema (2 error(s))" in message
    assert "$.project.enabled:" in message
    assert "$.project.is_domain:" in message


def test_keystone_request_schema() -> None:
    schema = keystone_request_schema("/v3/projects", "POST")
    assert schema is not None
    assert_valid(ks_sample("project-create-request.json"), schema)
    # keystone accepts extra project attributes, but not an empty name.
    assert_valid({"project": {"name": "x", "surprise": True}}, schema)
    with pytest.raises(AssertionError, match=r"\$\.project\.name"):
        assert_valid({"project": {"name": ""}}, schema)


def test_keystone_lookup_distinguishes_unknown_missing_and_empty() -> None:
    with pytest.raises(LookupError, match="no route GET /v3/projets"):
        keystone_response_schema("/v3/projets", "GET")
    # Upstream has no schema for tokens yet: None, not an error.
    assert keystone_response_schema("/v3/auth/tokens", "POST") is None
    # Declared empty body.
    empty = keystone_response_schema("/v3/projects/{project_id}", "DELETE")
    assert empty == {"type": "null"}
    assert_valid(None, empty)
    with pytest.raises(AssertionError):
        assert_valid({}, empty)


# --------------------------------------------------------------------------- identity spec: auth

TOKEN_SAMPLES = [
    "auth-token-scoped-response.json",
    "auth-token-unscoped-response.json",
    "auth-password-project-scoped-response.json",
    "auth-password-unscoped-response.json",
    "auth-password-explicit-unscoped-response.json",
    "auth-application-credential-response.json",
]


@pytest.mark.parametrize("name", TOKEN_SAMPLES)
def test_token_samples_validate_against_the_spec(name: str) -> None:
    schema = openapi_response_schema("identity", "/v3/auth/tokens", "POST", "201")
    assert_valid(ks_sample(name), schema, where=name)
    assert_keystone_response(ks_sample(name), "/v3/auth/tokens", "POST")
    assert_keystone_response(ks_sample(name), "/v3/auth/tokens", "GET")


def test_token_create_201_maps_to_the_spec_200() -> None:
    created = openapi_response_schema("identity", "/v3/auth/tokens", "POST", "201")
    assert created == openapi_response_schema("identity", "/v3/auth/tokens", "POST", "200")
    with pytest.raises(LookupError, match="declares no 202"):
        openapi_response_schema("identity", "/v3/auth/tokens", "POST", "202")


@pytest.mark.parametrize(
    ("field", "bad", "path"),
    [
        ("expires_at", "tomorrow", r"\$\.token\.expires_at"),
        ("issued_at", "today", r"\$\.token\.issued_at"),  # the spec's typo issues_at, repaired
        ("methods", "password", r"\$\.token\.methods"),
        ("roles", [{"id": "not a uuid", "name": "admin"}], r"\$\.token\.roles\[0\]\.id"),
    ],
)
def test_mutated_token_fails_naming_the_field(field: str, bad: Any, path: str) -> None:
    body = ks_sample("auth-token-scoped-response.json")
    body["token"][field] = bad
    with pytest.raises(AssertionError, match=path):
        assert_keystone_response(body, "/v3/auth/tokens", "POST")


def test_token_spec_is_loose_so_pair_it_with_a_shape_check() -> None:
    # No required keys and no additionalProperties: an empty token passes the spec; the
    # sample shape check is what catches it.
    assert_keystone_response({"token": {}}, "/v3/auth/tokens", "POST")
    with pytest.raises(AssertionError, match=r"\$\.token\.expires_at: missing"):
        assert_shape_like_sample({"token": {}}, ks_sample("auth-token-scoped-response.json"))


def test_other_auth_samples_validate_against_the_spec() -> None:
    assert_keystone_response(
        ks_sample("get-service-catalog-response.json"), "/v3/auth/catalog", "GET"
    )
    assert_keystone_response(
        ks_sample("get-available-system-scopes-response.json"), "/v3/auth/system", "GET"
    )
    assert_keystone_response(
        ks_sample("get-available-domain-scopes-response.json"), "/v3/auth/domains", "GET"
    )
    projects = ks_sample("get-available-project-scopes-response.json")
    # The sample abbreviates project ids to 6 hex digits; keystone's are 32 (UUID-like).
    for project in projects["projects"]:
        project["id"] = UUID_HEX
    assert_keystone_response(projects, "/v3/auth/projects", "GET")
    projects["links"] = []
    with pytest.raises(AssertionError, match=r"\$\.links: \[\] is not of type 'object'"):
        assert_keystone_response(projects, "/v3/auth/projects", "GET")


def test_keystone_response_without_any_schema_raises() -> None:
    with pytest.raises(LookupError, match="no response schema for keystone DELETE /v3/auth"):
        assert_keystone_response(None, "/v3/auth/tokens", "DELETE")


# --------------------------------------------------------------------------- derived nova


def test_nova_flavor_sample_validates_at_2_1() -> None:
    body = nova_sample("flavors", "flavor-get-resp.json", "2.1")
    # Parameter names need not match nova's ({id}); a leading /v2.1 is accepted.
    schema = nova_response_schema("/flavors/{flavor_id}", "GET", "2.1")
    assert schema is not None
    assert_valid(body, schema)
    assert_nova_response(body, "/v2.1/flavors/{id}", "GET", "2.1")


def test_nova_mutated_flavor_fails_naming_the_field() -> None:
    body = nova_sample("flavors", "flavor-get-resp.json", "2.1")
    body["flavor"]["ram"] = "lots"
    with pytest.raises(AssertionError, match=r"\$\.flavor\.ram"):
        assert_nova_response(body, "/flavors/{id}", "GET", "2.1")


@pytest.mark.parametrize(("microversion", "folder"), [("2.60", "v2.55"), ("2.101", "v2.75")])
def test_nova_sample_takes_the_newest_folder_at_or_below(microversion: str, folder: str) -> None:
    body = nova_sample("flavors", "flavor-get-resp.json", microversion)
    assert body == sample("nova", f"doc/api_samples/flavors/{folder}/flavor-get-resp.json")
    assert_nova_response(body, "/flavors/{id}", "GET", microversion)


def test_nova_schema_follows_the_microversion() -> None:
    # 2.102 removed rxtx_factor and OS-FLV-DISABLED:disabled from flavor bodies.
    old = nova_sample("flavors", "flavor-get-resp.json", "2.1")
    with pytest.raises(AssertionError, match="rxtx_factor"):
        assert_nova_response(old, "/flavors/{id}", "GET", "2.102")
    assert_nova_response(
        nova_sample("flavors", "flavor-get-resp.json", "2.102"), "/flavors/{id}", "GET", "latest"
    )


def test_nova_lookups() -> None:
    assert nova_success_code("/os-keypairs", "POST", "2.1") == 200
    assert nova_success_code("/os-keypairs", "POST", "2.2") == 201
    assert nova_request_schema("/flavors/{id}", "PUT", "2.1") is None  # PUT arrived in 2.55
    assert nova_request_schema("/flavors/{id}", "PUT", "2.55") is not None
    with pytest.raises(LookupError, match=r"action endpoint.*os-start"):
        nova_request_schema("/servers/{id}/action", "POST", "2.1")
    assert nova_request_schema("/servers/{id}/action", "POST", "2.1", action="os-start")
    with pytest.raises(LookupError, match="no route"):
        nova_response_schema("/flavours", "GET", "2.1")
    with pytest.raises(ValueError, match="outside"):
        nova_response_schema("/flavors", "GET", "3.0")


# --------------------------------------------------------------------------- OpenAPI specs


def test_spec_microversion_branch_selection() -> None:
    body = {"flavor": {"name": "m1", "ram": 1, "vcpus": 1, "disk": 1, "description": "d"}}
    at_255 = openapi_request_schema("compute", "/v2.1/flavors", "POST", microversion="2.55")
    assert at_255["$ref"].endswith("/components/schemas/FlavorsCreateRequest/oneOf/2")
    assert_valid(body, at_255)
    at_21 = openapi_request_schema("compute", "/v2.1/flavors", "POST", microversion="2.1")
    with pytest.raises(AssertionError, match="'description' was unexpected"):
        assert_valid(body, at_21)


def test_spec_draft4_exclusive_minimum_is_repaired_with_its_meaning() -> None:
    # compute writes rxtx_factor as `minimum: 0, exclusiveMinimum: true` (draft 4).
    schema = openapi_request_schema("compute", "/v2.1/flavors", "POST", microversion="2.1")
    flavor = {"name": "m1", "ram": 1, "vcpus": 1, "disk": 1}
    assert_valid({"flavor": {**flavor, "rxtx_factor": 1.0}}, schema)
    with pytest.raises(AssertionError, match="rxtx_factor"):
        assert_valid({"flavor": {**flavor, "rxtx_factor": 0}}, schema)


def test_spec_nested_type_is_repaired() -> None:
    # load-balancing writes insert_headers as `additionalProperties: {type: {type: string}}`.
    listener = sample("octavia", "api-ref/source/v2/examples/listener-show-response.json")
    schema = openapi_response_schema("load-balancing", "/v2/lbaas/listeners/{id}", "GET")
    assert_valid(listener, schema)
    listener["listener"]["insert_headers"] = {"X-Forwarded-For": 1}
    with pytest.raises(AssertionError, match="insert_headers"):
        assert_valid(listener, schema)


@pytest.fixture
def unrepaired_specs(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(apiref, "_repair_schema", lambda node: None)
    monkeypatch.setattr(apiref, "_CHECKED_SPEC_REFS", set())
    apiref._spec.cache_clear()
    yield
    apiref._spec.cache_clear()


@pytest.mark.usefixtures("unrepaired_specs")
def test_invalid_spec_schema_raises_a_clear_error() -> None:
    schema = openapi_response_schema("compute", "/v2.1/flavors/{id}", "GET")
    with pytest.raises(InvalidSchemaError, match=r"FlavorShowResponse.*exclusiveMinimum"):
        assert_valid({"flavor": {}}, schema)


def test_invalid_schema_raises_before_validating() -> None:
    with pytest.raises(InvalidSchemaError, match="is not valid JSON Schema"):
        assert_valid({}, {"type": "nonsense"})


def test_action_then_microversion() -> None:
    body = {"rebuild": {"imageRef": "70a599e0-31e7-49b7-b260-868f441e862b"}}
    certs = {"trusted_image_certificates": ["0b5d2c72-12cc-4ba6-a8d7-3ff5cc1d8cb8"]}
    path = "/v2.1/servers/{id}/action"
    at_263 = openapi_request_schema("compute", path, "POST", action="rebuild", microversion="2.63")
    assert_valid({"rebuild": {**body["rebuild"], **certs}}, at_263)
    at_21 = openapi_request_schema("compute", path, "POST", action="rebuild", microversion="2.1")
    assert_valid(body, at_21)
    with pytest.raises(AssertionError, match="trusted_image_certificates"):
        assert_valid({"rebuild": {**body["rebuild"], **certs}}, at_21)
    with pytest.raises(LookupError, match="os-start"):
        openapi_request_schema("compute", path, "POST", action="os-begin")
    with pytest.raises(LookupError, match="not an action body"):
        select_action(at_21, "rebuild")


def test_select_microversion_on_plain_schemas() -> None:
    union = {
        "x-openstack": {"discriminator": "microversion"},
        "oneOf": [
            {"x-openstack": {"min_ver": "3.0", "max_ver": "3.42"}, "const": "old"},
            {"x-openstack": {"min-ver": "3.43"}, "const": "new"},
        ],
    }
    assert select_microversion(union, "3.42")["const"] == "old"
    assert select_microversion(union, "3.70")["const"] == "new"
    with pytest.raises(LookupError, match=r"no branch covers microversion 2\.9"):
        select_microversion(union, "2.9")
    plain = {"type": "object"}
    assert select_microversion(plain, "2.1") is plain


def test_spec_lookup_errors() -> None:
    with pytest.raises(LookupError, match="heat"):
        openapi_response_schema("orchestration", "/v1/stacks", "GET")
    with pytest.raises(LookupError, match="no path /auth/tokens"):
        openapi_response_schema("identity", "/auth/tokens", "POST")
    with pytest.raises(LookupError, match="no PATCH"):
        openapi_response_schema("identity", "/v3/auth/tokens", "PATCH")


# --------------------------------------------------------------------------- formats


@pytest.mark.parametrize(
    ("fmt", "value", "ok"),
    [
        ("date-time", "2015-11-05T22:00:11.000000Z", True),
        ("date-time", "2015-11-05T22:00:11", True),  # no timezone: accepted upstream
        ("date-time", "2015-11-05T22:00:11+02:00", True),
        ("date-time", "yesterday", False),
        ("uuid", UUID_HEX, True),  # keystone's dashless ids
        ("uuid", "70a599e0-31e7-49b7-b260-868f441e862b", True),
        ("uuid", "default", False),
        ("uuid", "{70a599e0-31e7-49b7-b260-868f441e862b}", False),
    ],
)
def test_format_checker_matches_upstream_overrides(fmt: str, value: str, ok: bool) -> None:
    schema = {"type": "string", "format": fmt}
    if ok:
        assert_valid(value, schema)
    else:
        with pytest.raises(AssertionError, match=f"is not a '{fmt}'"):
            assert_valid(value, schema)


def test_one_of_errors_name_the_closest_branch() -> None:
    schema = {"oneOf": [{"type": "string", "format": "ipv4"}, {"type": "string", "format": "ipv6"}]}
    assert_valid("192.0.2.1", schema)
    with pytest.raises(AssertionError, match="closest branch"):
        assert_valid("not-an-address", schema)


# --------------------------------------------------------------------------- samples and shape


def test_sample_is_a_private_copy() -> None:
    first = ks_sample("project-show-response.json")
    first["project"]["name"] = "changed"
    assert ks_sample("project-show-response.json")["project"]["name"] != "changed"
    with pytest.raises(FileNotFoundError, match=r"no sample keystone/nope\.json"):
        sample("keystone", "nope.json")


def test_shape_accepts_the_sample_itself_and_extra_keys() -> None:
    token = ks_sample("auth-token-scoped-response.json")
    assert_shape_like_sample(token, ks_sample("auth-token-scoped-response.json"))
    token["token"]["newer_field"] = 1
    assert_shape_like_sample(token, ks_sample("auth-token-scoped-response.json"))
    with pytest.raises(AssertionError, match=r"\$\.token\.newer_field: not in the sample"):
        assert_shape_like_sample(
            token, ks_sample("auth-token-scoped-response.json"), allow_extra=False
        )


def test_shape_catches_a_missing_key() -> None:
    token = ks_sample("auth-token-scoped-response.json")
    del token["token"]["project"]["domain"]
    with pytest.raises(AssertionError, match=r"\$\.token\.project\.domain: missing"):
        assert_shape_like_sample(token, ks_sample("auth-token-scoped-response.json"))


def test_shape_catches_a_type_mismatch() -> None:
    token = ks_sample("auth-token-scoped-response.json")
    token["token"]["is_domain"] = "false"
    with pytest.raises(AssertionError, match=r"\$\.token\.is_domain: string where .* boolean"):
        assert_shape_like_sample(token, ks_sample("auth-token-scoped-response.json"))


def test_shape_compares_every_list_item_with_the_first_sample_item() -> None:
    expected = {"items": [{"id": "a", "size": 1}, {"other": True}]}
    assert_shape_like_sample({"items": []}, expected)
    with pytest.raises(AssertionError) as info:
        assert_shape_like_sample({"items": [{"id": "x", "size": 2}, {"id": 3}]}, expected)
    message = str(info.value)
    assert "(2 difference(s))" in message
    assert "$.items[1].id: number where the sample has string" in message
    assert "$.items[1].size: missing" in message
    assert "other" not in message


def test_shape_rules_for_null_numbers_and_ignore() -> None:
    expected: dict[str, Any] = {
        "a": None,
        "n": 1.0,
        "flag": True,
        "specs": {"hw:cpu": "1"},
        "xs": [{"m": {}}],
    }
    body = {"a": {"any": "thing"}, "n": 2, "flag": True, "specs": {}, "xs": [{"m": {}}]}
    with pytest.raises(AssertionError, match=r"\$\.specs\.hw:cpu: missing"):
        assert_shape_like_sample(body, expected)
    assert_shape_like_sample(body, expected, ignore={"$.specs"})
    assert_shape_like_sample(body, expected, ignore={"specs.hw:cpu"})
    with pytest.raises(AssertionError, match=r"\$\.flag: number where the sample has boolean"):
        assert_shape_like_sample({**body, "flag": 1}, expected, ignore={"$.specs"})
    with pytest.raises(AssertionError, match=r"\$\.xs\[0\]\.m\.extra: not in the sample"):
        assert_shape_like_sample(
            {**body, "xs": [{"m": {"extra": 1}}]}, expected, allow_extra=False, ignore={"specs"}
        )
    assert_shape_like_sample(
        {**body, "xs": [{"m": {"extra": 1}}]},
        expected,
        allow_extra=False,
        ignore={"specs", "xs[*].m.extra"},
    )


def test_session_header_says_whether_the_comparisons_run(
    monkeypatch: pytest.MonkeyPatch, no_data: Path
) -> None:
    monkeypatch.delenv(REQUIRE_ENV_VAR, raising=False)
    line = apiref.report_line()
    assert line == f"api-ref: not found at {no_data}; tests that compare with it are skipped"
    monkeypatch.setenv(REQUIRE_ENV_VAR, "1")
    assert apiref.report_line().startswith(f"api-ref: MISSING at {no_data}; ")
    (no_data / "derived").mkdir(parents=True)
    (no_data / "openstack-openapi").mkdir()
    assert apiref.report_line() == f"api-ref: {no_data}"
