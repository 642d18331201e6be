"""The sandbox authenticates like Telnyx: a Bearer token, 401 code 10009 otherwise."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from telnyx_group_mms.sandbox import Sandbox

from .openapi import errors_against_error_response
from .wire_client import post


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer    "},
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ],
    ids=["no header", "empty header", "no token", "blank token", "not bearer"],
)
def test_a_request_without_a_bearer_token_is_refused_with_401_code_10009(
    telnyx_sandbox: Sandbox, headers: dict[str, str]
) -> None:
    answer = post(telnyx_sandbox.base_url, key=None, headers=headers)

    assert answer.status == 401
    assert answer.codes == ["10009"]
    assert answer.errors[0]["title"] == "Authentication failed"
    assert errors_against_error_response(answer.json()) == []
    assert telnyx_sandbox.messages == []


def test_any_non_empty_key_is_accepted_when_the_sandbox_has_no_key(
    telnyx_sandbox: Sandbox,
) -> None:
    assert post(telnyx_sandbox.base_url, key="anything").status == 200
    assert post(telnyx_sandbox.base_url, key="something-else").status == 200


def test_a_sandbox_with_an_api_key_accepts_only_that_key(
    telnyx_sandbox_factory: Callable[..., Sandbox],
) -> None:
    sandbox = telnyx_sandbox_factory(api_key="KEY_right")

    wrong = post(sandbox.base_url, key="KEY_wrong")
    right = post(sandbox.base_url, key="KEY_right")

    assert wrong.status == 401
    assert wrong.codes == ["10009"]
    assert right.status == 200
    assert len(sandbox.messages) == 1


def test_the_scheme_is_matched_case_insensitively(telnyx_sandbox: Sandbox) -> None:
    answer = post(telnyx_sandbox.base_url, key=None, headers={"Authorization": "bearer k"})
    assert answer.status == 200


def test_an_empty_api_key_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="api_key"):
        Sandbox(api_key=" ")
