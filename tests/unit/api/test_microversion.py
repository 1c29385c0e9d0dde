"""Microversion negotiation: the request headers in, the version and response headers out."""

from __future__ import annotations

import pytest
from starlette.datastructures import Headers

from stacklab.api.errors import BadRequest, NotAcceptable
from stacklab.api.microversion import MicroversionRange, Version

COMPUTE = MicroversionRange("compute", Version(2, 1), Version(2, 96),
                            legacy_header="X-OpenStack-Nova-API-Version")
VOLUME = MicroversionRange("volume", Version(3, 0), Version(3, 70))


def headers(**values: str) -> Headers:
    return Headers({name.replace("_", "-"): value for name, value in values.items()})


def test_version_parse_and_order() -> None:
    assert Version.parse("2.79") == Version(2, 79)
    assert Version.parse(" 2.10 ") == Version(2, 10)
    # Numeric, not lexical: 2.10 is after 2.9.
    assert Version(2, 9) < Version(2, 10) < Version(3, 0)
    assert Version(2, 10) >= Version(2, 10)
    assert str(Version(2, 5)) == "2.5"


@pytest.mark.parametrize("text", ["2", "two.one", "2.", ".1", "2.1.3", "-2.1", "v2.1", ""])
def test_a_malformed_version_is_400(text: str) -> None:
    with pytest.raises(BadRequest, match=r"is not in the form 'X\.Y'"):
        Version.parse(text)


def test_no_header_gives_the_minimum() -> None:
    assert COMPUTE.negotiate(headers()) == Version(2, 1)
    assert VOLUME.negotiate(headers()) == Version(3, 0)


def test_latest_gives_the_maximum() -> None:
    assert COMPUTE.negotiate(headers(openstack_api_version="compute latest")) == Version(2, 96)
    assert COMPUTE.negotiate(headers(openstack_api_version="compute LATEST")) == Version(2, 96)


def test_the_generic_header_picks_this_service_among_several() -> None:
    both = headers(openstack_api_version="volume 3.44, compute 2.79")
    assert COMPUTE.negotiate(both) == Version(2, 79)
    assert VOLUME.negotiate(both) == Version(3, 44)


def test_the_service_name_in_the_header_is_case_insensitive() -> None:
    assert COMPUTE.negotiate(headers(openstack_api_version="Compute 2.60")) == Version(2, 60)


def test_a_header_for_another_service_only_gives_the_minimum() -> None:
    assert VOLUME.negotiate(headers(openstack_api_version="compute 2.79")) == Version(3, 0)


def test_the_legacy_header_is_read() -> None:
    assert COMPUTE.negotiate(headers(x_openstack_nova_api_version="2.53")) == Version(2, 53)
    assert COMPUTE.negotiate(headers(x_openstack_nova_api_version="latest")) == Version(2, 96)


def test_the_generic_header_wins_over_the_legacy_one() -> None:
    both = headers(openstack_api_version="compute 2.70", x_openstack_nova_api_version="2.10")
    assert COMPUTE.negotiate(both) == Version(2, 70)


def test_a_service_without_legacy_header_ignores_legacy_headers() -> None:
    assert VOLUME.negotiate(headers(x_openstack_volume_api_version="3.5")) == Version(3, 0)


def test_the_bounds_are_inclusive() -> None:
    assert COMPUTE.negotiate(headers(openstack_api_version="compute 2.1")) == Version(2, 1)
    assert COMPUTE.negotiate(headers(openstack_api_version="compute 2.96")) == Version(2, 96)


@pytest.mark.parametrize("text", ["2.97", "2.0", "1.1", "3.0"])
def test_out_of_range_is_406(text: str) -> None:
    with pytest.raises(NotAcceptable) as caught:
        COMPUTE.negotiate(headers(openstack_api_version=f"compute {text}"))
    assert caught.value.status == 406
    assert caught.value.message == (
        f"Version {Version.parse(text)} is not supported by the API. "
        "Minimum is 2.1 and maximum is 2.96."
    )


def test_out_of_range_through_the_legacy_header_is_406() -> None:
    with pytest.raises(NotAcceptable):
        COMPUTE.negotiate(headers(x_openstack_nova_api_version="9.9"))


@pytest.mark.parametrize("value", ["compute 2", "compute two", "compute 2.x"])
def test_a_malformed_requested_version_is_400(value: str) -> None:
    with pytest.raises(BadRequest):
        COMPUTE.negotiate(headers(openstack_api_version=value))


def test_a_plain_lowercase_dict_works_as_headers() -> None:
    assert COMPUTE.negotiate({"openstack-api-version": "compute 2.5"}) == Version(2, 5)


def test_a_non_ascii_digit_is_400_not_a_crash() -> None:
    with pytest.raises(BadRequest):
        COMPUTE.negotiate({"openstack-api-version": "compute 2.\u00b2"})


def test_response_headers_with_a_legacy_header() -> None:
    assert COMPUTE.response_headers(Version(2, 79)) == {
        "OpenStack-API-Version": "compute 2.79",
        "X-OpenStack-Nova-API-Version": "2.79",
        "Vary": "OpenStack-API-Version, X-OpenStack-Nova-API-Version",
    }


def test_response_headers_without_a_legacy_header() -> None:
    assert VOLUME.response_headers(Version(3, 0)) == {
        "OpenStack-API-Version": "volume 3.0",
        "Vary": "OpenStack-API-Version",
    }
