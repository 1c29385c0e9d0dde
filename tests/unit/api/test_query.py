"""Typed query parameters."""

from __future__ import annotations

import pytest

from stacklab.api.errors import BadRequest
from stacklab.api.query import bool_param, int_param


def test_int_param() -> None:
    assert int_param({}, "limit") is None
    assert int_param({"limit": "12"}, "limit") == 12
    assert int_param({"offset": "0"}, "offset", minimum=0) == 0
    with pytest.raises(BadRequest, match="limit"):
        int_param({"limit": "many"}, "limit")
    with pytest.raises(BadRequest, match="less than 0"):
        int_param({"offset": "-1"}, "offset", minimum=0)


@pytest.mark.parametrize(("raw", "value"), [("true", True), ("1", True), ("Yes", True),
                                            ("false", False), ("0", False), ("off", False)])
def test_bool_param(raw: str, value: bool) -> None:
    assert bool_param({"protected": raw}, "protected") is value


def test_bool_param_refuses_garbage() -> None:
    assert bool_param({}, "protected") is None
    with pytest.raises(BadRequest, match="protected"):
        bool_param({"protected": "maybe"}, "protected")
