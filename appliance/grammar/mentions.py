"""What a message names: addresses, and people or groups by name ("disable Lee Vere", "Tom's laptop").

A name candidate is a run of up to three capitalised words that are not request words (English,
German, French: verbs, nouns of the job, function words) and carry no digit. The candidates are only
*offered*: the directory says which of them are people or groups (`orchestrator/naming.py`), the
grammar lets the model copy one of them, and the appliance resolves what it copied. Nothing here
invents a person; a word that is no name simply finds nobody.
"""

from __future__ import annotations

import re

ADDRESS_IN_TEXT = re.compile(r"[A-Za-z0-9._%+'-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+")
_WORD = re.compile(r"[A-Za-z\u00c0-\u024f][A-Za-z\u00c0-\u024f'’-]*")
NAME_MAX_WORDS = 3
MAX_CANDIDATES = 6

_REQUEST_WORDS_TEXT = """
a abmelden about abteilung account accounts acount activate active add added admin administrator affiche again aid
ajoute ajouter aktiviere aktivieren all alle allen also am an and anfrage anfragen anmeldungen annule any anything
app are as asap assign at attribue au audit auf aus ausgeschieden authentication authenticator aux away azure back
be been bei benutzer bestätigung bitte block blocked bloque bonjour brich by can cancel ce cette change changes
check chef cherche combien compromised compte comptes connexion connexions copilot could danke das de deactivate
deaktiviere delete dem demain demande demandes den department departments der dernière des details device did die
diese disable disabled do doctor does done donne drop du déconnecte désactive e-mail e1 e3 e5 ein eine einen einer
elle email en enable enabled entferne entfernen entra er es est et every everyone everything everywhere exchange f1
f3 find fired for forgot forgotten friday from füge für gestohlen get gib give group groupe groups gruppe gruppen
guten hacked had hallo handy has hat have he hello help her hers heute hi him hinzu his how i if ihm ihn ihr ihre il
in intern into is ist it its just kannst kick kill konten konto la laptop last le leaver left les let letzten
licence licences license licenses list lizenz lizenzen lock locked log login logins look lookup lost lui lösche ma
mail mailbox manager me mein meine melde members membership merci mes methoden mfa microsoft mit mon monday morgen
mot mots my name namen ne need needs neue neuen neues new nicht nimm no noch nommés not now nurse of off offboard
offenen office on onboard one or oublié our out outlook par partie pas passe password passwords passwort peux
phishing phone please pls poste pour profil profile pull put qu quelles quels qui quit re reactivate remove reset
retire revoke right réactive réinitialise réserver réunion sa salle saturday schön se search sein seine ses session
sessions set setze she should show sie sign sign-in sign-ins signed signing since sitzungen so some someone son
sperre sperren start starting stelle stolen stop storniere suche sunday sur tablet tage take teams tell thank thanks
that the their them there they this those thursday title to today tomorrow too tous toutes tu tuesday un unblock und
une unlock unternehmen up update user users utilisateur utilisateurs vergessen volé von wants wartet was we weather
wednesday weise welche wer what when which who whose why wieder will with would wurde yes yesterday you your zeig
zeige zu zum zur zurück à ändere änderungen
"""
REQUEST_WORDS = frozenset(_REQUEST_WORDS_TEXT.split())
"""Words that are never a name on their own (lower case). Capitalised, they start sentences or are
German nouns, so capitalisation alone cannot tell a name."""


def addresses(text: str) -> list[str]:
    """The address-shaped names in `text`, lower-cased, in order."""
    return [m.group(0).strip(".").lower() for m in ADDRESS_IN_TEXT.finditer(text)]


def _bare(word: str) -> str:
    for suffix in ("'s", "’s", "'", "’"):
        if word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _could_be_name(word: str) -> bool:
    if len(word) < 2 or not word[0].isupper() or (word.isupper() and len(word) > 5):
        return False  # lower case, or a SKU part number such as ENTERPRISEPACK
    return not any(part in REQUEST_WORDS for part in re.split(r"[-'’]", word.casefold()))


def name_candidates(text: str) -> list[str]:
    """Runs of up to three capitalised non-request words (possessive 's dropped), in order, at most six."""
    without_addresses = ADDRESS_IN_TEXT.sub(" , ", text)
    runs: list[list[str]] = [[]]
    position = 0
    for match in _WORD.finditer(without_addresses):
        gap = without_addresses[position : match.start()]
        position = match.end()
        raw = match.group(0)
        word = _bare(raw)
        if gap.strip() or not runs[-1]:
            runs.append([])
        is_name = _could_be_name(word)
        if is_name and len(runs[-1]) < NAME_MAX_WORDS:
            runs[-1].append(word)
        else:
            runs.append([])
        if word != raw:  # a possessive ends the name
            runs.append([])
    names = [" ".join(run) for run in runs if run]
    return list(dict.fromkeys(names))[:MAX_CANDIDATES]


def search_terms(text: str) -> list[str]:
    """What a directory search in `text` may look for: its addresses, its name candidates and each word of
    them ("Anna Schmidt", "Anna", "Schmidt"); only when it has none, its other words that are no request
    words ("search for meier"). The query is a span of the message, never a name from elsewhere."""
    found = [*addresses(text)]
    for name in name_candidates(text):
        found += [name, *name.split()]
    if not found:
        found = [w for w in (_bare(m.group(0)) for m in _WORD.finditer(text)) if _could_be_name(w.capitalize())]
    return list(dict.fromkeys(found))
