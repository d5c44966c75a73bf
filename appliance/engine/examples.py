"""Retrieved examples: the worked examples most like the person's message, shown right before it.

The cached prefix carries one worked example per tool. A small model copies the *nearest* pattern far
more reliably than one seen 1,500 tokens earlier, so per message the examples from this bank that share
the most words with the message (addresses ignored) are rendered as chat turns just before it.
On the labelled corpus with SmolLM2-135M this lifted the right-tool rate from 0.36 to 0.70 with two
examples (docs/BENCHMARKS.md). The bank is hand-written, uses only example.org addresses (the grammar
grounds addresses on the real conversation, never on these), and shares no message with the test corpus.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from appliance.catalog import Catalog

U1, U2, GROUP = "anna.berg@example.org", "ben.ode@example.org", "hr@example.org"
Example = tuple[str, str, dict[str, Any]]

BANK: tuple[Example, ...] = (
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
    ("list my open requests", "aid_pending_list", {}),
    ("Was ist bei mir noch offen?", "aid_pending_list", {}),
    ("Quelles demandes sont en attente ?", "aid_pending_list", {}),
    ("scrap the last one", "aid_pending_cancel", {"which": "last"}),
    ("cancel everything I asked for", "aid_pending_cancel", {"which": "all"}),
    ("Annule toutes mes demandes", "aid_pending_cancel", {"which": "all"}),
    ("Storniere die letzte Anfrage", "aid_pending_cancel", {"which": "last"}),
    ("hi there", "reply", {"intent": "greeting", "about": "none"}),
    ("Hallo zusammen", "reply", {"intent": "greeting", "about": "none"}),
    ("Salut !", "reply", {"intent": "greeting", "about": "none"}),
    ("thank you", "reply", {"intent": "thanks", "about": "none"}),
    ("Vielen Dank", "reply", {"intent": "thanks", "about": "none"}),
    ("merci", "reply", {"intent": "thanks", "about": "none"}),
    ("how can you help me?", "reply", {"intent": "capabilities", "about": "none"}),
    ("Que sais-tu faire ?", "reply", {"intent": "capabilities", "about": "none"}),
    ("give him a license", "reply", {"intent": "ask_who", "about": "license"}),
    ("sign her out of everything", "reply", {"intent": "ask_who", "about": "sessions"}),
    ("Sperre bitte sein Konto", "reply", {"intent": "ask_who", "about": "account"}),
    ("assign a license to ben.ode@example.org", "reply", {"intent": "ask_which_license", "about": "license"}),
    ("put anna.berg@example.org in a group", "reply", {"intent": "ask_which_group", "about": "group"}),
    ("can you order me a new monitor?", "reply", {"intent": "out_of_scope", "about": "none"}),
    ("Wie wird das Wetter morgen?", "reply", {"intent": "out_of_scope", "about": "none"}),
    ("create a mailbox for the new doctor", "reply", {"intent": "cannot_do", "about": "none"}),
    ("delete the account of ben.ode@example.org", "reply", {"intent": "cannot_do", "about": "account"}),
)  # fmt: skip
"""Extra phrasings; retrieval draws from these and the one-per-tool examples of the prefix (`prompt.EXAMPLES`)."""

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
                          for message, tool, arguments in examples if tool in catalog]  # fmt: skip

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
        out: list[dict[str, str]] = []
        for message, tool, arguments in reversed(self.nearest(text, k, allowed)):
            call = json.dumps({"tool": tool, "arguments": arguments}, separators=(",", ":"))
            out += [{"role": "user", "content": message}, {"role": "assistant", "content": call}]
        return out
