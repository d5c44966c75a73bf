"""Which sign-in flow a tenant's policy blocked, in words an admin can act on.

Entra answers a refused token request with an `AADSTS<code>` in `error_description`. The codes a policy
(rather than a wrong setting) causes, from MicrosoftDocs/entra-docs docs/identity-platform/reference-error-codes.md:
53003 BlockedByConditionalAccess, 530032 BlockedByConditionalAccessOnSecurityPolicy, 530035
BlockedBySecurityDefaults, 50076 / 50079 / 50074 multifactor authentication required / registration
required / not passed, 50097 / 50155 / 50187 device authentication, 53000 DeviceNotCompliant, 53001
DeviceNotDomainJoined, 53002 ApplicationUsedIsNotAnApprovedApp, 70043 BadTokenDueToSignInFrequency,
50158 ExternalSecurityChallenge, 50131 ConditionalAccessFailed.

Device code is the flow Conditional Access's "authentication flows" condition targets, and a session that
began with a device code stays "protocol tracked": its later refreshes are blocked by the same policy
(MicrosoftDocs/entra-docs docs/identity/conditional-access/concept-authentication-flows.md, "Protocol
tracking"). So an Aid signed in by device code stops refreshing once such a policy is switched on, and the
way out is a sign-in by another flow: `appliance init --sign-in --browser`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEVICE_CODE = "device code"
BROWSER = "authorization code + PKCE"  # the browser sign-in
REFRESH = "silent token refresh"

SIGN_IN_FLOW_SETTING = "graph.sign_in_flow"  # which flow signed the Aid in last (`init --sign-in` records it)

BROWSER_SIGN_IN = "`appliance init --sign-in --browser`"
_CA = "Conditional Access"

# code -> (what blocked it, what the admin should do); `{flow}` is the flow that was refused.
_POLICY_CODES: dict[int, tuple[str, str]] = {
    53003: (f"a {_CA} policy blocked the {{flow}} (BlockedByConditionalAccess)",
            "Find the policy in Entra sign-in logs (the Aid's failed sign-in, Conditional Access tab); if it is an "
            f"authentication-flows policy blocking device code, sign the Aid in with {BROWSER_SIGN_IN}; otherwise "
            "exclude the Aid (or the appliance's location) from that policy."),
    530032: ("a tenant security policy blocked the {flow} (BlockedByConditionalAccessOnSecurityPolicy)",
             "Review the tenant-level security policies for the Aid's account, then sign it in again."),
    530035: ("security defaults blocked the {flow} (BlockedBySecurityDefaults)",
             f"Sign the Aid in with {BROWSER_SIGN_IN} and complete MFA, or replace security defaults with "
             f"{_CA} policies that allow it."),
    50076: ("the tenant requires multifactor authentication for the {flow} (UserStrongAuthClientAuthNRequired)",
            f"Sign the Aid in again with {BROWSER_SIGN_IN} and complete MFA as the Aid."),
    50079: ("the Aid must register for multifactor authentication first (UserStrongAuthEnrollmentRequired)",
            f"Register MFA methods for the Aid, then run {BROWSER_SIGN_IN}."),
    50074: ("the {flow} did not pass the MFA challenge (UserStrongAuthClientAuthNRequiredInterrupt)",
            f"Run {BROWSER_SIGN_IN} and complete MFA as the Aid."),
    50097: ("a policy requires device authentication for the {flow} (DeviceAuthenticationRequired)",
            "Exclude the Aid from the device-based Conditional Access policy (the appliance is a server, not "
            "a managed device), then sign it in again."),
    50155: ("device authentication failed for the {flow} (DeviceAuthenticationFailed)",
            "Exclude the Aid from the device-based Conditional Access policy, then sign it in again."),
    50187: ("a policy requires device information the {flow} cannot give (DeviceInformationNotProvided)",
            "Exclude the Aid from the device-based Conditional Access policy, then sign it in again."),
    53000: ("a policy requires a compliant device for the {flow} (DeviceNotCompliant)",
            "Exclude the Aid from the compliant-device policy (it signs in from a server), then sign it in again."),
    53001: ("a policy requires a domain-joined device for the {flow} (DeviceNotDomainJoined)",
            "Exclude the Aid from the domain-joined-device policy, then sign it in again."),
    53002: ("a policy allows only approved client apps for the {flow} (ApplicationUsedIsNotAnApprovedApp)",
            "Exclude the Aid or the appliance's app registration from the approved-app policy."),
    70043: ("a sign-in frequency policy expired the Aid's session (BadTokenDueToSignInFrequency)",
            "Exclude the Aid from the sign-in frequency policy (docs/DEPLOY.md step 1), then run "
            f"{BROWSER_SIGN_IN}."),
    50158: ("an external security challenge was not satisfied for the {flow} (ExternalSecurityChallenge)",
            f"Run {BROWSER_SIGN_IN} and complete the external challenge as the Aid."),
    50131: (f"{_CA} refused the {{flow}} (ConditionalAccessFailed)",
            "Read the Aid's failed sign-in in Entra sign-in logs (Conditional Access tab) for the policy."),
}


@dataclass(frozen=True)
class PolicyBlock:
    """A sign-in refused by tenant policy: the code, what blocked which flow, and what to do."""

    code: int
    flow: str
    message: str
    hint: str


def aadsts_code(description: str) -> int | None:
    """The first `AADSTS<digits>` code in an Entra error description, or None."""
    found = re.search(r"AADSTS(\d+)", description)
    return int(found.group(1)) if found else None


def explain_policy_block(description: str, flow: str, signed_in_by: str | None = None) -> PolicyBlock | None:
    """The policy block behind an Entra error for `flow`, or None when the error is not a policy's.

    `signed_in_by`: the flow that signed the Aid in, for a refused refresh: a device-code session is
    protocol tracked, so a device-code block refuses its refreshes too (see the module docstring).
    """
    code = aadsts_code(description)
    if code is None or code not in _POLICY_CODES:
        return None
    message, hint = _POLICY_CODES[code]
    message = message.format(flow=f"{flow} flow")
    if flow == REFRESH and signed_in_by == DEVICE_CODE and code == 53003:
        message += ("; the Aid was signed in by device code, and a policy that blocks device code also blocks "
                    "the refreshes of a device-code session (protocol tracking)")
        hint = f"Sign the Aid in again by another flow: {BROWSER_SIGN_IN}."
    return PolicyBlock(code=code, flow=flow, message=message, hint=hint)
