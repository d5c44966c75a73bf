"""Nothing readable on disk: canary scan of every file, wrong key, plaintext db, key file rules, rekey."""

from __future__ import annotations

import os
import sqlite3
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from appliance.config import Settings
from appliance.store import TenantStore, audit_records, conversations, pending_actions
from appliance.store.clock import now
from appliance.store.connection import rekey
from appliance.store.errors import KeyFileError, StoreKeyError, StoreNotEncryptedError
from appliance.store.export import export_jsonl
from appliance.store.keys import FileKeyProvider

CANARIES = {
    "upn": "canary.person.7f3a@contoso-canary.com",
    "message": "CANARY-MESSAGE please reset my password 91c2",
    "refresh_token": "0.AXkA-canary-refresh-token-e8d1b2c3d4e5f6a7b8c9",
    "secret": "canary-app-secret~Q8Z2x!",
}
CONVERSATION = "teams:19:canary-conversation"


def scripted_conversation(store: TenantStore) -> None:
    """A lookup, a password reset proposed, confirmed, executed and audited; a token cache; a secret."""
    upn = CANARIES["upn"]
    store.run(conversations.append_turn, CONVERSATION, "user", f"{CANARIES['message']} for {upn}")
    store.run(conversations.append_turn, CONVERSATION, "tool", f"m365_user_get -> found {upn}")
    store.run(
        pending_actions.create_action, action_id="a1", conversation_ref=CONVERSATION, requester_id="aad-canary",
        tool="m365_password_reset", arguments={"user": upn}, summary=f"Reset the password of {upn}",
        action_hash="f" * 64, expires_at=now() + timedelta(minutes=10),
    )
    assert store.run(pending_actions.confirm, "a1", requester_id="aad-canary", action_hash="f" * 64)
    assert store.run(pending_actions.transition, "a1", "CONFIRMED", "EXECUTING", client_request_id="crid-1")
    assert store.run(pending_actions.transition, "a1", "EXECUTING", "DONE")
    store.run(
        audit_records.append_record,
        {"RequestedBy": upn, "ActionSummary": f"Reset the password of {upn}", "ToolName": "m365_password_reset",
         "Outcome": "Success", "ClientRequestId": "crid-1", "ConversationRef": CONVERSATION},
    )
    store.token_cache.save_token_cache(f'{{"RefreshToken": {{"k": {{"secret": "{CANARIES["refresh_token"]}"}}}}}}')
    store.put_secret("bot.app_secret", CANARIES["secret"])


def scan(directory: Path) -> dict[str, list[str]]:
    """Every canary (UTF-8 or UTF-16) found in any file under `directory`, by file."""
    found: dict[str, list[str]] = {}
    for path in directory.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for name, value in CANARIES.items():
                if value.encode() in data or value.encode("utf-16-le") in data:
                    found.setdefault(path.name, []).append(name)
    return found


def test_no_canary_is_readable_in_any_file_while_open_and_after_close(
    store: TenantStore, settings: Settings, key_file: Path, tmp_path: Path
) -> None:
    scripted_conversation(store)
    names = {p.name for p in settings.home.iterdir()}
    assert {"appliance.db", "appliance.db-wal", "appliance.db-shm"} <= names  # the newest pages are in the WAL
    assert scan(settings.home) == {}
    assert all(stat.S_IMODE((settings.home / n).stat().st_mode) == 0o600 for n in names)
    key_hex = key_file.read_text().strip().encode()
    assert not any(key_hex in p.read_bytes() for p in settings.home.rglob("*") if p.is_file())
    store.run(export_jsonl, tmp_path / "export")  # positive control: the scanner finds them in plaintext
    assert set(scan(tmp_path / "export")["conversations.jsonl"]) == {"upn", "message"}
    store.close()
    assert scan(settings.home) == {}


def test_the_data_is_all_there_with_the_right_key(store: TenantStore, settings: Settings) -> None:
    scripted_conversation(store)
    store.close()
    with TenantStore.open(settings) as reopened:
        turns = reopened.run(conversations.recent_turns, CONVERSATION)
        assert CANARIES["upn"] in turns[0].text and CANARIES["message"] in turns[0].text
        assert CANARIES["refresh_token"] in (reopened.token_cache.load_token_cache() or "")
        assert reopened.get_secret("bot.app_secret") == CANARIES["secret"]
        assert reopened.run(audit_records.records)[0]["RequestedBy"] == CANARIES["upn"]
        assert reopened.run(lambda db: db.execute("PRAGMA cipher_memory_security").fetchone()[0]) in (1, "1")
        assert reopened.run(lambda db: db.execute("PRAGMA temp_store").fetchone()[0]) == 2  # memory only


def test_secrets_are_ciphertext_even_in_query_results(store: TenantStore) -> None:
    scripted_conversation(store)
    rows = store.run(lambda db: db.execute("SELECT * FROM secrets").fetchall())
    blob = repr(rows).encode()
    assert len(rows) == 2 and CANARIES["secret"].encode() not in blob and CANARIES["refresh_token"].encode() not in blob


def test_a_wrong_key_is_refused_naming_the_key_file_not_the_key(
    store: TenantStore, settings: Settings, key_file: Path, tmp_path: Path
) -> None:
    scripted_conversation(store)
    store.close()
    other = FileKeyProvider(tmp_path / "other.key", settings.home)
    wrong_key = other.create()
    before = store.path.read_bytes()
    with pytest.raises(StoreKeyError) as caught:
        TenantStore(store.path, other)
    message = f"{caught.value.message} {caught.value.hint}"
    assert str(other.path) in message and "wrong key" in message
    assert wrong_key.hex() not in message.lower() and key_file.read_text().strip() not in message.lower()
    assert store.path.read_bytes() == before  # refused without writing


def test_a_plaintext_database_is_refused(settings: Settings, key_file: Path) -> None:
    path = settings.home / "appliance.db"
    plain = sqlite3.connect(path)
    plain.execute("CREATE TABLE conversation_turns (text TEXT)")
    plain.commit()
    plain.close()
    with pytest.raises(StoreNotEncryptedError, match="unencrypted") as caught:
        TenantStore.open(settings)
    assert "Move the file away" in caught.value.hint


def test_a_key_file_with_mode_0644_is_refused(store: TenantStore, settings: Settings, key_file: Path) -> None:
    store.close()
    os.chmod(key_file, 0o644)
    with pytest.raises(KeyFileError, match="0644; it must be 0600") as caught:
        TenantStore.open(settings)
    assert str(key_file) in caught.value.message


def test_a_key_file_inside_the_data_directory_is_refused(settings: Settings) -> None:
    with pytest.raises(KeyFileError, match="inside the data directory"):
        FileKeyProvider(settings.home / "store.key", settings.home)


def test_rekey_keeps_every_row_and_the_old_key_no_longer_opens(
    store: TenantStore, settings: Settings, key_file: Path, tmp_path: Path
) -> None:
    scripted_conversation(store)
    old_key = key_file.read_text()
    store.rotate_key(os.urandom(32))
    store.close()
    assert key_file.read_text() != old_key and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert not (key_file.parent / (key_file.name + ".next")).exists()
    with TenantStore.open(settings) as reopened:
        assert reopened.get_secret("bot.app_secret") == CANARIES["secret"]
        assert CANARIES["refresh_token"] in (reopened.token_cache.load_token_cache() or "")
        assert reopened.run(audit_records.verify).ok
        assert len(reopened.run(conversations.recent_turns, CONVERSATION)) == 2
    old = tmp_path / "old.key"
    old.write_text(old_key)
    os.chmod(old, 0o600)
    with pytest.raises(StoreKeyError):
        TenantStore(store.path, FileKeyProvider(old, settings.home))
    assert scan(settings.home) == {}


@pytest.mark.parametrize("stopped_after", ["begin", "reseal", "rekey"])
def test_an_interrupted_rotation_is_finished_on_the_next_open(
    store: TenantStore, settings: Settings, key_file: Path, stopped_after: str
) -> None:
    """Each step of `rotate_key` done by hand, then the process "stops"; the next open completes it."""
    scripted_conversation(store)
    new_key = os.urandom(32)
    keys = FileKeyProvider(key_file, settings.home)
    keys.begin_rotation(new_key)
    if stopped_after in ("reseal", "rekey"):
        from appliance.store.secrets import SecretBox, reseal_all

        new_box = SecretBox(new_key)
        store.run(lambda db: reseal_all(db, {store.box.key_id: store.box, new_box.key_id: new_box}, new_box))
    if stopped_after == "rekey":
        store.run(rekey, new_key)
    store.close()
    with TenantStore.open(settings) as reopened:
        assert reopened.get_secret("bot.app_secret") == CANARIES["secret"]
        assert reopened.run(audit_records.verify).ok
    assert keys.load() == new_key and keys.pending_rotation() is None
