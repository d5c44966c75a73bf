"""Which flow a tenant policy blocked, from the AADSTS code Entra answers (MicrosoftDocs/entra-docs
docs/identity-platform/reference-error-codes.md; docs/identity/conditional-access/concept-authentication-flows.md)."""

from __future__ import annotations

import pytest

from appliance.graph.sign_in_policy import BROWSER, DEVICE_CODE, REFRESH, aadsts_code, explain_policy_block

BLOCKED = ("Entra refused the Aid's token: AADSTS53003: Access has been blocked by Conditional Access policies. "
           "The access policy does not allow token issuance.")


def test_a_blocked_device_code_sign_in_names_the_flow_and_the_browser_sign_in() -> None:
    block = explain_policy_block(BLOCKED, DEVICE_CODE)
    assert block is not None and block.code == 53003
    assert "Conditional Access policy blocked the device code flow" in block.message
    assert "appliance init --sign-in --browser" in block.hint


def test_a_refused_refresh_of_a_device_code_session_is_explained_by_protocol_tracking() -> None:
    block = explain_policy_block(BLOCKED, REFRESH, signed_in_by=DEVICE_CODE)
    assert block is not None and "protocol tracking" in block.message
    assert block.hint == "Sign the Aid in again by another flow: `appliance init --sign-in --browser`."
    browser_session = explain_policy_block(BLOCKED, REFRESH, signed_in_by=BROWSER)
    assert browser_session is not None and "protocol tracking" not in browser_session.message
    assert "exclude the Aid" in browser_session.hint


@pytest.mark.parametrize(("code", "words", "todo"), [
    (530032, "tenant security policy", "security policies"),
    (530035, "security defaults", "MFA"),
    (50076, "multifactor authentication", "--browser"),
    (50079, "register for multifactor", "Register MFA"),
    (50074, "MFA challenge", "--browser"),
    (50097, "device authentication", "Exclude the Aid"),
    (50155, "device authentication failed", "Exclude the Aid"),
    (50187, "device information", "Exclude the Aid"),
    (53000, "compliant device", "Exclude the Aid"),
    (53001, "domain-joined device", "Exclude the Aid"),
    (53002, "approved client apps", "approved-app policy"),
    (70043, "sign-in frequency", "sign-in frequency policy"),
    (50158, "external security challenge", "external challenge"),
    (50131, "Conditional Access refused", "sign-in logs"),
])
def test_each_policy_code_names_what_blocked_and_what_to_do(code: int, words: str, todo: str) -> None:
    block = explain_policy_block(f"AADSTS{code}: whatever Entra says", BROWSER)
    assert block is not None and block.code == code and block.flow == BROWSER
    assert words in block.message and todo in block.hint


@pytest.mark.parametrize("description", [
    "AADSTS65001: The user or administrator has not consented to use the application",  # consent, not policy
    "AADSTS50173: The provided grant has expired due to it being revoked",  # revoked sessions
    "the Aid is not signed in (no account in the token cache)",  # no code at all
])
def test_errors_that_are_not_a_policy_are_left_alone(description: str) -> None:
    assert explain_policy_block(description, REFRESH, DEVICE_CODE) is None


def test_the_code_is_read_from_the_description() -> None:
    assert aadsts_code("x AADSTS700027: Client assertion failed") == 700027 and aadsts_code("no code") is None


def test_a_refused_token_names_the_policy_and_what_to_do_wherever_it_is_raised() -> None:
    """serve, the tools and doctor all get the Aid's token through `AidIdentity`: a policy refusal says why."""
    from appliance.graph.auth import AidIdentity
    from appliance.graph.errors import GraphAuthError

    refused = {"error": "invalid_grant", "error_description": "AADSTS53003: Access has been blocked by Conditional "
               "Access policies.\r\nTrace ID: 1"}
    with pytest.raises(GraphAuthError, match=r"AADSTS53003.*Conditional Access policy blocked the silent token "
                                             r"refresh flow.*What to do: Find the policy"):
        AidIdentity._check(refused)
    other = {"error": "invalid_grant", "error_description": "AADSTS700082: The refresh token has expired."}
    with pytest.raises(GraphAuthError) as plain:
        AidIdentity._check(other)
    assert "What to do" not in str(plain.value)
