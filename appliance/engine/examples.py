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
    ("anything still waiting for my ok?", "aid_pending_list", {}),
    ("cancel my last request", "aid_pending_cancel", {"which": "last"}),
    ("reset the password please", "reply", {"intent": "ask_who", "about": "password"}),
    # more phrasings, for retrieval and the intent router
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
    ("show me the user Anna Berg", "m365_user_get", {"user": "Anna Berg"}),
    ("Zeig mir den Benutzer ben.ode@example.org", "m365_user_get", {"user": U2}),
    ("Informations sur le compte de Ben Ode", "m365_user_get", {"user": "Ben Ode"}),
    ("Ist Anna Berg noch aktiv?", "m365_user_get", {"user": "Anna Berg"}),
    ("Finde alle Benutzer namens Ode", "m365_user_search", {"query": "Ode"}),
    ("Recherche les personnes appelées Berg", "m365_user_search", {"query": "Berg"}),
    ("Ben Ode quit yesterday, block his sign-in", "m365_user_disable", {"user": "Ben Ode"}),
    ("Anna Berg has left, deactivate her account", "m365_user_disable", {"user": "Anna Berg"}),
    ("Deaktiviere das Konto von ben.ode@example.org, er ist gekündigt", "m365_user_disable", {"user": U2}),
    ("Sperre Anna Berg, sie hat uns verlassen", "m365_user_disable", {"user": "Anna Berg"}),
    ("Désactive Anna Berg, elle a quitté l'entreprise", "m365_user_disable", {"user": "Anna Berg"}),
    ("Bloque le compte de ben.ode@example.org", "m365_user_disable", {"user": U2}),
    ("Anna Berg is back, enable her account again", "m365_user_enable", {"user": "Anna Berg"}),
    ("Entsperre ben.ode@example.org wieder", "m365_user_enable", {"user": U2}),
    ("Débloque le compte de Ben Ode", "m365_user_enable", {"user": "Ben Ode"}),
    ("Ben Ode's phone was stolen, sign him out of all devices", "m365_sessions_revoke", {"user": "Ben Ode"}),
    ("the account of anna.berg@example.org was hacked, end all her sessions", "m365_sessions_revoke", {"user": U1}),
    ("Der Laptop von Ben Ode ist gestohlen, beende alle Sitzungen", "m365_sessions_revoke", {"user": "Ben Ode"}),
    ("Déconnecte anna.berg@example.org de tous les appareils, son téléphone est perdu", "m365_sessions_revoke",
     {"user": U1}),
    ("Anna Berg needs a new password", "m365_password_reset", {"user": "Anna Berg"}),
    ("Passwort von ben.ode@example.org zurücksetzen bitte", "m365_password_reset", {"user": U2}),
    ("Ben Ode hat sein Kennwort vergessen", "m365_password_reset", {"user": "Ben Ode"}),
    ("Nouveau mot de passe pour anna.berg@example.org", "m365_password_reset", {"user": U1}),
    ("Anna Berg is now Ward Manager, change her job title", "m365_user_update",
     {"user": "Anna Berg", "field": "jobTitle", "value": "Ward Manager"}),
    ("Setze die Abteilung von ben.ode@example.org auf Kardiologie", "m365_user_update",
     {"user": U2, "field": "department", "value": "Kardiologie"}),
    ("Le bureau de Ben Ode est maintenant Lyon 2", "m365_user_update",
     {"user": "Ben Ode", "field": "officeLocation", "value": "Lyon 2"}),
    ("Wie viele Lizenzen sind noch verfügbar?", "m365_license_list", {}),
    ("Quelles licences avons-nous ?", "m365_license_list", {}),
    ("do we still have free E3 licenses?", "m365_license_list", {}),
    ("Anna Berg needs an E3 license", "m365_license_assign", {"user": "Anna Berg", "sku": "ENTERPRISEPACK"}),
    ("Gib ben.ode@example.org eine F3 Lizenz", "m365_license_assign", {"user": U2, "sku": "SPE_F1"}),
    ("Attribue une licence E5 à Anna Berg", "m365_license_assign", {"user": "Anna Berg", "sku": "SPE_E5"}),
    ("Nimm Ben Ode die E3 Lizenz weg", "m365_license_remove", {"user": "Ben Ode", "sku": "ENTERPRISEPACK"}),
    ("Enlève la licence F3 de anna.berg@example.org", "m365_license_remove", {"user": U1, "sku": "SPE_F1"}),
    ("Anna Berg no longer needs her E5", "m365_license_remove", {"user": "Anna Berg", "sku": "SPE_E5"}),
    ("show the members of the HR group", "m365_group_members", {"group": "HR"}),
    ("Mitglieder der Gruppe hr@example.org anzeigen", "m365_group_members", {"group": GROUP}),
    ("Membres du groupe HR", "m365_group_members", {"group": "HR"}),
    ("add Anna Berg to the HR group", "m365_group_add_member", {"user": "Anna Berg", "group": "HR"}),
    ("Füge Ben Ode zur Gruppe HR hinzu", "m365_group_add_member", {"user": "Ben Ode", "group": "HR"}),
    ("Ajoute anna.berg@example.org au groupe hr@example.org", "m365_group_add_member", {"user": U1, "group": GROUP}),
    ("take Ben Ode out of the HR group", "m365_group_remove_member", {"user": "Ben Ode", "group": "HR"}),
    ("Entferne anna.berg@example.org aus hr@example.org", "m365_group_remove_member", {"user": U1, "group": GROUP}),
    ("Retire Ben Ode du groupe HR", "m365_group_remove_member", {"user": "Ben Ode", "group": "HR"}),
    ("which second factors has Anna Berg set up?", "m365_mfa_methods_list", {"user": "Anna Berg"}),
    ("Zeig die MFA Methoden von ben.ode@example.org", "m365_mfa_methods_list", {"user": U2}),
    ("Méthodes d'authentification de Ben Ode", "m365_mfa_methods_list", {"user": "Ben Ode"}),
    ("when did Anna Berg last sign in?", "m365_signins_recent", {"user": "Anna Berg", "days": 7}),
    ("Anmeldungen von ben.ode@example.org in den letzten 7 Tagen", "m365_signins_recent", {"user": U2, "days": 7}),
    ("Dernières connexions de Anna Berg ce mois-ci", "m365_signins_recent", {"user": "Anna Berg", "days": 30}),
    ("which licenses did the Aid assign this month?", "m365_audit_query", {"days": 30, "tool": "m365_license_assign"}),
    ("Welche Konten hat der Aid diese Woche gesperrt?", "m365_audit_query", {"days": 7, "tool": "m365_user_disable"}),
    ("Qu'a changé le Aid aujourd'hui ?", "m365_audit_query", {"days": 1, "tool": "any"}),
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
    # a second round of phrasings: everyday verbs, leavers and emergencies, the three languages
    ("what is the job title of Anna Berg?", "m365_user_get", {"user": "Anna Berg"}),
    ("which office is ben.ode@example.org in?", "m365_user_get", {"user": U2}),
    ("is the account of Ben Ode blocked?", "m365_user_get", {"user": "Ben Ode"}),
    ("Wer ist Anna Berg eigentlich?", "m365_user_get", {"user": "Anna Berg"}),
    ("In welcher Abteilung arbeitet ben.ode@example.org?", "m365_user_get", {"user": U2}),
    ("C'est qui, anna.berg@example.org ?", "m365_user_get", {"user": U1}),
    ("Montre-moi le profil de Ben Ode", "m365_user_get", {"user": "Ben Ode"}),
    ("look for anyone whose surname begins with Od", "m365_user_search", {"query": "Od"}),
    ("is there somebody named Anna in the directory?", "m365_user_search", {"query": "Anna"}),
    ("Gibt es jemanden, der Berg heißt?", "m365_user_search", {"query": "Berg"}),
    ("Trouve les comptes dont le nom commence par Be", "m365_user_search", {"query": "Be"}),
    ("Ben Ode has been dismissed, lock him out", "m365_user_disable", {"user": "Ben Ode"}),
    ("terminate access for anna.berg@example.org, today is her last day", "m365_user_disable", {"user": U1}),
    ("Ben Ode resigned, switch off his account", "m365_user_disable", {"user": "Ben Ode"}),
    ("Anna Berg wurde entlassen, Konto sofort sperren", "m365_user_disable", {"user": "Anna Berg"}),
    ("ben.ode@example.org arbeitet nicht mehr bei uns, bitte deaktivieren", "m365_user_disable", {"user": U2}),
    ("Anna Berg a été licenciée, bloque son compte", "m365_user_disable", {"user": "Anna Berg"}),
    ("ben.ode@example.org ne fait plus partie de l'équipe, désactive-le", "m365_user_disable", {"user": U2}),
    ("turn the account of Anna Berg back on, she returned", "m365_user_enable", {"user": "Anna Berg"}),
    ("let ben.ode@example.org sign in again", "m365_user_enable", {"user": U2}),
    ("Reaktiviere das Konto von Anna Berg", "m365_user_enable", {"user": "Anna Berg"}),
    ("Réactive ben.ode@example.org, il est de retour", "m365_user_enable", {"user": U2}),
    ("Anna Berg clicked a phishing link, log her out on every device", "m365_sessions_revoke", {"user": "Anna Berg"}),
    ("somebody else knows the password of ben.ode@example.org, kick him out of all sessions",
     "m365_sessions_revoke", {"user": U2}),
    ("Ben Ode lost his tablet, end his sessions", "m365_sessions_revoke", {"user": "Ben Ode"}),
    ("Das Konto von Anna Berg wurde gehackt, überall abmelden", "m365_sessions_revoke", {"user": "Anna Berg"}),
    ("ben.ode@example.org hat sein Handy verloren, alle Sitzungen beenden", "m365_sessions_revoke", {"user": U2}),
    ("Le compte de Ben Ode est compromis, ferme toutes ses sessions", "m365_sessions_revoke", {"user": "Ben Ode"}),
    ("On a volé l'ordinateur de anna.berg@example.org, déconnecte-la", "m365_sessions_revoke", {"user": U1}),
    ("anna.berg@example.org is locked out, she needs a temporary password", "m365_password_reset", {"user": U1}),
    ("Réinitialise le mot de passe de Ben Ode", "m365_password_reset", {"user": "Ben Ode"}),
    ("Neues Kennwort für Anna Berg bitte", "m365_password_reset", {"user": "Anna Berg"}),
    ("Ben Ode moved to the Pharmacy department, update it", "m365_user_update",
     {"user": "Ben Ode", "field": "department", "value": "Pharmacy"}),
    ("the office location of anna.berg@example.org is now Berlin 4", "m365_user_update",
     {"user": U1, "field": "officeLocation", "value": "Berlin 4"}),
    ("Ändere die Position von Ben Ode auf Oberarzt", "m365_user_update",
     {"user": "Ben Ode", "field": "jobTitle", "value": "Oberarzt"}),
    ("Change le service de anna.berg@example.org en Urgences", "m365_user_update",
     {"user": U1, "field": "department", "value": "Urgences"}),
    ("how many seats of each license are left?", "m365_license_list", {}),
    ("Welche Lizenzen haben wir gekauft?", "m365_license_list", {}),
    ("Combien de licences E5 nous reste-t-il ?", "m365_license_list", {}),
    ("Ben Ode starts Monday, he needs Office 365 E3", "m365_license_assign",
     {"user": "Ben Ode", "sku": "ENTERPRISEPACK"}),
    ("please license anna.berg@example.org for Microsoft 365 E5", "m365_license_assign", {"user": U1, "sku": "SPE_E5"}),
    ("Anna Berg soll eine E5 Lizenz bekommen", "m365_license_assign", {"user": "Anna Berg", "sku": "SPE_E5"}),
    ("Donne une licence F3 à ben.ode@example.org", "m365_license_assign", {"user": U2, "sku": "SPE_F1"}),
    ("unassign the F3 license of Ben Ode", "m365_license_remove", {"user": "Ben Ode", "sku": "SPE_F1"}),
    ("Entziehe anna.berg@example.org die E5 Lizenz", "m365_license_remove", {"user": U1, "sku": "SPE_E5"}),
    ("Retire la licence E3 de Ben Ode", "m365_license_remove", {"user": "Ben Ode", "sku": "ENTERPRISEPACK"}),
    ("who belongs to the HR group?", "m365_group_members", {"group": "HR"}),
    ("Wer ist in der Gruppe HR?", "m365_group_members", {"group": "HR"}),
    ("Qui fait partie de hr@example.org ?", "m365_group_members", {"group": GROUP}),
    ("Ben Ode needs to join the HR group", "m365_group_add_member", {"user": "Ben Ode", "group": "HR"}),
    ("Nimm anna.berg@example.org in hr@example.org auf", "m365_group_add_member", {"user": U1, "group": GROUP}),
    ("Mets Anna Berg dans le groupe HR", "m365_group_add_member", {"user": "Anna Berg", "group": "HR"}),
    ("Anna Berg should not be in the HR group any more", "m365_group_remove_member",
     {"user": "Anna Berg", "group": "HR"}),
    ("Nimm Ben Ode aus der Gruppe HR raus", "m365_group_remove_member", {"user": "Ben Ode", "group": "HR"}),
    ("Enlève anna.berg@example.org du groupe hr@example.org", "m365_group_remove_member",
     {"user": U1, "group": GROUP}),
    ("does Ben Ode have an authenticator app registered?", "m365_mfa_methods_list", {"user": "Ben Ode"}),
    ("Welche Anmeldemethoden hat Anna Berg?", "m365_mfa_methods_list", {"user": "Anna Berg"}),
    ("Quels facteurs MFA a ben.ode@example.org ?", "m365_mfa_methods_list", {"user": U2}),
    ("show the login history of Ben Ode for the last 30 days", "m365_signins_recent", {"user": "Ben Ode", "days": 30}),
    ("were there failed sign-in attempts for anna.berg@example.org today?", "m365_signins_recent",
     {"user": U1, "days": 1}),
    ("Wann hat sich Ben Ode zuletzt angemeldet?", "m365_signins_recent", {"user": "Ben Ode", "days": 7}),
    ("Connexions de ben.ode@example.org cette semaine", "m365_signins_recent", {"user": U2, "days": 7}),
    ("which users did the Aid disable this week?", "m365_audit_query", {"days": 7, "tool": "m365_user_disable"}),
    ("history of group membership changes this month", "m365_audit_query",
     {"days": 30, "tool": "m365_group_add_member"}),
    ("Welche Passwörter wurden diesen Monat zurückgesetzt?", "m365_audit_query",
     {"days": 30, "tool": "m365_password_reset"}),
    ("Quels comptes ont été désactivés cette semaine ?", "m365_audit_query", {"days": 7, "tool": "m365_user_disable"}),
    ("is anything of mine still pending?", "aid_pending_list", {}),
    ("Welche meiner Anfragen sind noch nicht bestätigt?", "aid_pending_list", {}),
    ("Montre mes demandes en attente", "aid_pending_list", {}),
    ("forget it, cancel it", "aid_pending_cancel", {"which": "last"}),
    ("Verwirf alle meine wartenden Anfragen", "aid_pending_cancel", {"which": "all"}),
    ("Laisse tomber, annule tout ce qui attend", "aid_pending_cancel", {"which": "all"}),
    ("good morning", "reply", {"intent": "greeting", "about": "none"}),
    ("Bonsoir", "reply", {"intent": "greeting", "about": "none"}),
    ("Danke dir", "reply", {"intent": "thanks", "about": "none"}),
    ("ok thanks, that helped", "reply", {"intent": "thanks", "about": "none"}),
    ("Was kannst du für mich tun?", "reply", {"intent": "capabilities", "about": "none"}),
    ("what are you able to do?", "reply", {"intent": "capabilities", "about": "none"}),
    ("block his sign-in immediately", "reply", {"intent": "ask_who", "about": "account"}),
    ("Réinitialise son mot de passe", "reply", {"intent": "ask_who", "about": "password"}),
    ("book me a flight to Paris", "reply", {"intent": "out_of_scope", "about": "none"}),
    ("Kannst du mir einen Tisch im Restaurant reservieren?", "reply", {"intent": "out_of_scope", "about": "none"}),
    ("Quel temps fera-t-il ce week-end ?", "reply", {"intent": "out_of_scope", "about": "none"}),
    ("set up a shared mailbox for the ward", "reply", {"intent": "cannot_do", "about": "none"}),
    ("Lösche den Benutzer ben.ode@example.org", "reply", {"intent": "cannot_do", "about": "account"}),
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
