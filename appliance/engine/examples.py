"""The worked examples: one table, what a good call looks like for each tool, with no tenant data.

The model sees them in two ways. The first example of each enabled tool goes into the cached prefix as
chat turns (`prompt.fixed_turns`; on SmolLM2-135M, chat turns lifted tool accuracy from ~20% to ~34% over
the same examples as text). Per message, the examples that share the most words with the message
(addresses ignored) are shown again right before it (`ExampleRetriever`): a small model copies the
*nearest* pattern far more reliably than one seen 1,500 tokens earlier (the right-tool rate went from
0.36 to 0.73 on the labelled corpus, docs/BENCHMARKS.md).

Every enabled tool needs at least one example: `appliance serve` refuses to start otherwise
(`wiring/catalog_check.py`). The table uses only example.org addresses (the grammar grounds addresses
on the real conversation, never on these) and shares no message with the test corpus.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from appliance.catalog import Catalog

U1, U2, GROUP = "anna.berg@example.org", "ben.ode@example.org", "hr@example.org"
Example = tuple[str, str, dict[str, Any]]

EXAMPLES: tuple[Example, ...] = (
    # the first example of each tool: the prefix
    ("Is anna.berg@example.org able to sign in?", "m365_user_get", {"user": U1}),
    ("find people called Berg", "m365_user_search", {"query": "Berg"}),
    ("block sign-in for ben.ode@example.org", "m365_user_disable", {"user": U2}),
    ("enable anna.berg@example.org again", "m365_user_enable", {"user": U1}),
    ("sign ben.ode@example.org out everywhere", "m365_sessions_revoke", {"user": U2}),
    ("reset the password of anna.berg@example.org", "m365_password_reset", {"user": U1}),
    ("set the department of ben.ode@example.org to Sales", "m365_user_update",
     {"user": U2, "field": "department", "value": "Sales"}),
    ("which licenses do we own?", "m365_license_list", {}),
    ("give ben.ode@example.org an E3 license (ENTERPRISEPACK)", "m365_license_assign",
     {"user": U2, "sku": "ENTERPRISEPACK"}),
    ("remove SPE_E5 from ben.ode@example.org", "m365_license_remove", {"user": U2, "sku": "SPE_E5"}),
    ("who is in hr@example.org?", "m365_group_members", {"group": GROUP}),
    ("add anna.berg@example.org to hr@example.org", "m365_group_add_member", {"group": GROUP, "user": U1}),
    ("remove anna.berg@example.org from hr@example.org", "m365_group_remove_member", {"group": GROUP, "user": U1}),
    ("what MFA methods has ben.ode@example.org?", "m365_mfa_methods_list", {"user": U2}),
    ("recent sign-ins of anna.berg@example.org", "m365_signins_recent", {"user": U1, "days": 7}),
    ("what did the Aid change today?", "m365_audit_query", {"days": 1, "tool": "any"}),
    ("reset the password please", "reply", {"text": "Whose password should I reset? Please give their address."}),
    # more phrasings, for retrieval
    ("who is ben.ode@example.org?", "m365_user_get", {"user": U2}),
    ("show me the profile of ben.ode@example.org", "m365_user_get", {"user": U2}),
    ("look up anna.berg@example.org", "m365_user_get", {"user": U1}),
    ("search for users named Ode", "m365_user_search", {"query": "Ode"}),
    ("which users are called Anna?", "m365_user_search", {"query": "Anna"}),
    ("how many licenses are free?", "m365_license_list", {}),
    ("show our subscriptions", "m365_license_list", {}),
    ("assign SPE_E5 to anna.berg@example.org", "m365_license_assign", {"user": U1, "sku": "SPE_E5"}),
    ("license ben.ode@example.org with SPE_F1", "m365_license_assign", {"user": U2, "sku": "SPE_F1"}),
    ("take the ENTERPRISEPACK license away from anna.berg@example.org", "m365_license_remove",
     {"user": U1, "sku": "ENTERPRISEPACK"}),
    ("list the members of hr@example.org", "m365_group_members", {"group": GROUP}),
    ("put ben.ode@example.org into the group hr@example.org", "m365_group_add_member", {"group": GROUP, "user": U2}),
    ("take ben.ode@example.org out of hr@example.org", "m365_group_remove_member", {"group": GROUP, "user": U2}),
    ("disable the account of anna.berg@example.org, she left", "m365_user_disable", {"user": U1}),
    ("unblock ben.ode@example.org", "m365_user_enable", {"user": U2}),
    ("revoke the sessions of anna.berg@example.org, her laptop was stolen", "m365_sessions_revoke", {"user": U1}),
    ("ben.ode@example.org forgot his password", "m365_password_reset", {"user": U2}),
    ("change the job title of anna.berg@example.org to Head of HR", "m365_user_update",
     {"user": U1, "field": "jobTitle", "value": "Head of HR"}),
    ("move ben.ode@example.org to the office Hamburg 3", "m365_user_update",
     {"user": U2, "field": "officeLocation", "value": "Hamburg 3"}),
    ("list the authentication methods of anna.berg@example.org", "m365_mfa_methods_list", {"user": U1}),
    ("did ben.ode@example.org sign in today?", "m365_signins_recent", {"user": U2, "days": 1}),
    ("show the audit log of password resets this month", "m365_audit_query",
     {"days": 30, "tool": "m365_password_reset"}),
    ("hello", "reply", {"text": "Hello! I can look up users, licenses and groups, and make changes you confirm."}),
    ("give him a license", "reply", {"text": "Who should get the license, and which one? Please give their address."}),
    ("thank you", "reply", {"text": "You're welcome."}),
)
"""(message, tool, arguments): the first example of each tool is its prefix example, in this order."""


def tools_with_examples() -> frozenset[str]:
    """Every tool the table has an example of."""
    return frozenset(tool for _, tool, _ in EXAMPLES)


def prefix_examples(catalog: Catalog) -> list[Example]:
    """The first example of each enabled tool, in table order (the worked examples of the cached prefix)."""
    seen: set[str] = set()
    first = []
    for example in EXAMPLES:
        if example[1] in catalog and example[1] not in seen:
            seen.add(example[1])
            first.append(example)
    return first


def as_turns(examples: Sequence[Example]) -> list[dict[str, str]]:
    """Examples as chat turns: the message, then the call as the assistant's JSON answer."""
    turns: list[dict[str, str]] = []
    for message, tool, arguments in examples:
        call = json.dumps({"tool": tool, "arguments": arguments}, separators=(",", ":"))
        turns += [{"role": "user", "content": message}, {"role": "assistant", "content": call}]
    return turns


_ADDRESS = re.compile(r"\S+@\S+")
_WORD = re.compile(r"[a-z0-9_]+")


def words(text: str) -> frozenset[str]:
    """The lower-case words of `text`, every address replaced by one placeholder word."""
    return frozenset(_WORD.findall(_ADDRESS.sub(" address ", text.lower())))


class ExampleRetriever:
    """Nearest examples by word overlap (Jaccard), among the examples of enabled tools only.

    A message that names an address is shown examples that name one, and a message that names none is
    shown examples that name none: an example of asking "whose password?" only misleads when the
    person did give an address, and the grammar already forbids user tools when nobody was named.
    """

    def __init__(self, catalog: Catalog, examples: Sequence[Example]) -> None:
        self._examples = [(words(message), bool(_ADDRESS.search(message)), message, tool, arguments)
                          for message, tool, arguments in examples if tool in catalog]

    def nearest(self, text: str, k: int, allowed: frozenset[str] | None = None) -> list[Example]:
        """The `k` examples most like `text` (of `allowed` tools only), most similar first; ties keep bank order."""
        if k <= 0:
            return []
        query, addressed = words(text), bool(_ADDRESS.search(text))
        pool = [e for e in self._examples if e[1] == addressed and (allowed is None or e[3] in allowed)]

        def similarity(entry: tuple[frozenset[str], bool, str, str, dict[str, Any]]) -> float:
            union = query | entry[0]
            return len(query & entry[0]) / len(union) if union else 0.0

        ranked = sorted(pool, key=similarity, reverse=True)
        return [(message, tool, arguments) for _, _, message, tool, arguments in ranked[:k]]

    def turns(self, text: str, k: int, allowed: frozenset[str] | None = None) -> list[dict[str, str]]:
        """The nearest examples as chat turns, the most similar one last (right before the message)."""
        return as_turns(list(reversed(self.nearest(text, k, allowed))))
