"""Nothing readable on disk: canary scan of every file, wrong key, plaintext db, key file rules, rekey."""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from appliance.config import Settings
from appliance.store import TenantStore, audit_records, conversations, pending_actions
from appliance.store.clock import now
from appliance.store.errors import KeyFileError, StoreKeyError, StoreNotEncryptedError
from appliance.store.keys import FileKeyProvider

CANARIES = {
    "upn": "canary.person.7f3a@contoso-canary.com",
    "message": "CANARY-MESSAGE please reset my password 91c2",
    "refresh_token": "0.AXkA-canary-refresh-token-e8d1b2c3d4e5f6a7b8c9",
    "secret": "canary-app-secret~Q8Z2x!",
}


def _scripted_conversation(store: TenantStore) -> None:
    ref = "teams://19:canary-conversation"
    store.run(conversations.append_turn, ref, "user", f"{CANARIES['message']} for {CANARIES['upn']}")
    store.run(conversations.append_turn, ref, "tool", f"m365_user_get -> found {CANARIES['upn']}")
    action = store.run(
        pending_actions.create_action, action_id="a1", conversation_ref=ref, requester_id="aad-canary",
        tool="m365_password_reset", arguments_json=json.dumps({"user": CANARIES["upn"]}),
        summary=f"Reset the password of {CANARIES['upn']}", action_hash="f" * 64,
        expires_at=now() + timedelta(minutes=10),
    )  # fmt: skip
    store.run(pending_actions.transition, action.id, "AWAITING", "CONFIRMED", confirmed_by="aad-canary")
    store.run(audit_records.append_record, {"RequestedBy": CANARIES["upn"], "ActionSummary": action.summary})
    store.save_token_cache(json.dumps({"RefreshToken": {"x": {"secret": CANARIES["refresh_token"]}}}))
    store.put_secret("bot.app_secret", CANARIES["secret"])


def _scan(home: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for name, value in CANARIES.items():
                for needle in (value.encode(), value.encode("utf-16-le")):
                    if needle in data:
                        found.setdefault(str(path), []).append(name)
    return found


def test_no_canary_is_readable_in_any_file_while_open_and_after_close(store: TenantStore, settings: Settings) -> None:
    _scripted_conversation(store)
    files = sorted(p.name for p in settings.home.iterdir())
    assert "appliance.db-wal" in files  # WAL mode: the newest pages are in the -wal file
    assert _scan(settings.home) == {}
    store.close()
    assert _scan(settings.home) == {}
    assert store.run.__self__ is store  # the store object is still the same, only closed


def test_the_data_is_really_there_with_the_right_key(store: TenantStore) -> None:
    _scripted_conversation(store)
    turns = store.run(conversations.recent_turns, "teams://19:canary-conversation")
    assert CANARIES["upn"] in turns[0].text
    assert CANARIES["refresh_token"] in (store.load_token_cache() or "")
    assert store.get_secret("bot.app_secret") == CANARIES["secret"]


def test_secrets_are_ciphertext_even_in_query_results(store: TenantStore) -> None:
    store.put_secret("bot.app_secret", CANARIES["secret"])
    rows = store.run(lambda db: db.execute("SELECT name, nonce, ciphertext FROM secrets").fetchall())
    assert rows and all(CANARIES["secret"].encode() not in bytes(row[2]) for row in rows)


def test_wrong_key_gives_a_clear_error_naming_the_key_file_not_the_key(
    store: TenantStore, settings: Settings, key_file: Path, tmp_path: Path
) -> None:
    store.close()
    other = tmp_path / "other.key"
    wrong = FileKeyProvider(other, settings.home)
    wrong_key = wrong.create()
    with pytest.raises(StoreKeyError) as caught:
        TenantStore(store.path, wrong)
    message = str(caught.value)
    assert str(other) in message and wrong_key.hex() not in message
    assert key_file.read_text().strip() not in message


def test_a_plaintext_database_is_refused(settings: Settings, key_file: Path) -> None:
    path = settings.home / "appliance.db"
    plain = sqlite3.connect(path)
    plain.execute("CREATE TABLE t (x)")
    plain.commit()
    plain.close()
    with pytest.raises(StoreNotEncryptedError, match="unencrypted"):
        TenantStore.open(settings)


def test_a_key_file_readable_by_others_is_refused(store: TenantStore, settings: Settings, key_file: Path) -> None:
    store.close()
    os.chmod(key_file, 0o644)
    with pytest.raises(KeyFileError, match="0600"):
        TenantStore.open(settings)


def test_a_key_file_inside_the_data_directory_is_refused(settings: Settings) -> None:
    with pytest.raises(KeyFileError, match="inside the data directory"):
        FileKeyProvider(settings.home / "store.key", settings.home)


def test_init_refuses_to_overwrite_an_existing_key(settings: Settings, key_file: Path) -> None:
    before = key_file.read_text()
    with pytest.raises(KeyFileError, match="already exists"):
        FileKeyProvider(key_file, settings.home).create()
    assert key_file.read_text() == before


def test_rekey_keeps_every_row_and_the_old_key_no_longer_opens(
    store: TenantStore, settings: Settings, key_file: Path, tmp_path: Path
) -> None:
    _scripted_conversation(store)
    old_key = key_file.read_text()
    store.rotate_key(os.urandom(32))
    store.close()
    assert key_file.read_text() != old_key and (key_file.stat().st_mode & 0o777) == 0o600
    with TenantStore.open(settings) as reopened:
        assert reopened.get_secret("bot.app_secret") == CANARIES["secret"]
        assert reopened.run(audit_records.verify).ok
        assert len(reopened.run(conversations.recent_turns, "teams://19:canary-conversation")) == 2
    old = tmp_path / "old.key"
    old.write_text(old_key)
    os.chmod(old, 0o600)
    with pytest.raises(StoreKeyError):
        TenantStore(store.path, FileKeyProvider(old, settings.home))
