"""Key providers: the key file's rules (0600, owner, outside the data dir), env keys, two-phase rotation."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from appliance.store.errors import KeyFileError, KeyRotationError
from appliance.store.key_provider import KeyProvider
from appliance.store.keys import EnvKeyProvider, FileKeyProvider, parse_hex_key


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    return home


@pytest.fixture
def provider(tmp_path: Path, data_dir: Path) -> FileKeyProvider:
    return FileKeyProvider(tmp_path / "home.key", data_dir)


def test_create_writes_a_0600_hex_key_and_load_reads_it(provider: FileKeyProvider) -> None:
    old_umask = os.umask(0)  # even a permissive umask gives 0600
    try:
        key = provider.create()
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(provider.path.stat().st_mode) == 0o600
    assert len(key) == 32 and provider.path.read_text().strip() == key.hex()
    assert provider.load() == key


def test_create_never_overwrites_a_key(provider: FileKeyProvider) -> None:
    key = provider.create()
    with pytest.raises(KeyFileError, match="already exists"):
        provider.create()
    assert provider.load() == key


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_key_file_readable_by_group_or_others_is_refused(provider: FileKeyProvider, mode: int) -> None:
    provider.create()
    os.chmod(provider.path, mode)
    with pytest.raises(KeyFileError, match="must be 0600") as caught:
        provider.load()
    assert str(provider.path) in str(caught.value) and "chmod 600" in caught.value.hint


def test_a_key_file_owned_by_someone_else_is_refused(provider: FileKeyProvider) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root can give a file away")
    provider.create()
    os.chown(provider.path, 4242, -1)
    with pytest.raises(KeyFileError, match="belongs to user id 4242"):
        provider.load()


def test_a_key_file_inside_the_data_directory_is_refused(data_dir: Path) -> None:
    with pytest.raises(KeyFileError, match="inside the data directory"):
        FileKeyProvider(data_dir / "keys" / "store.key", data_dir)
    with pytest.raises(KeyFileError, match="inside the data directory"):
        FileKeyProvider(data_dir / ".." / "home" / "store.key", data_dir)


def test_a_missing_or_malformed_key_is_refused_without_echoing_it(provider: FileKeyProvider) -> None:
    with pytest.raises(KeyFileError, match="does not exist"):
        provider.load()
    provider.path.write_text("not-a-key-but-a-secret-looking-value")
    os.chmod(provider.path, 0o600)
    with pytest.raises(KeyFileError) as caught:
        provider.load()
    assert "secret-looking" not in str(caught.value)
    provider.path.write_text("ab" * 16)
    with pytest.raises(KeyFileError, match="16 bytes"):
        provider.load()


def test_rotation_keeps_the_new_key_beside_the_old_until_finished(provider: FileKeyProvider) -> None:
    old = provider.create()
    new = os.urandom(32)
    assert provider.pending_rotation() is None
    provider.begin_rotation(new)
    assert provider.load() == old and provider.pending_rotation() == new
    assert stat.S_IMODE(provider.next_path.stat().st_mode) == 0o600
    provider.begin_rotation(new)  # again with the same key: fine (a resumed rotation)
    with pytest.raises(KeyRotationError, match="already pending"):
        provider.begin_rotation(os.urandom(32))
    provider.finish_rotation()
    assert provider.load() == new and provider.pending_rotation() is None and not provider.next_path.exists()


def test_destroy_removes_the_key_and_any_pending_key(provider: FileKeyProvider) -> None:
    provider.create()
    provider.begin_rotation(os.urandom(32))
    provider.destroy()
    assert not provider.path.exists() and not provider.next_path.exists()
    with pytest.raises(KeyFileError, match="does not exist"):
        provider.load()


def test_env_provider_reads_the_variable_and_refuses_to_create_or_store(monkeypatch: pytest.MonkeyPatch) -> None:
    keys = EnvKeyProvider("TEST_STORE_KEY")
    with pytest.raises(KeyFileError, match="TEST_STORE_KEY is not set"):
        keys.load()
    key = os.urandom(32)
    monkeypatch.setenv("TEST_STORE_KEY", key.hex().upper() + "\n")
    assert keys.load() == key and "TEST_STORE_KEY" in keys.describe()
    with pytest.raises(KeyFileError, match="does not create it"):
        keys.create()
    with pytest.raises(KeyRotationError, match="cannot store a new key") as caught:
        keys.begin_rotation(os.urandom(32))
    assert "--new-key-env" in caught.value.hint


def test_env_provider_rotates_only_to_the_key_in_the_named_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    new = os.urandom(32)
    monkeypatch.setenv("TEST_STORE_KEY", os.urandom(32).hex())
    monkeypatch.setenv("TEST_STORE_KEY_NEXT", new.hex())
    keys = EnvKeyProvider("TEST_STORE_KEY", next_variable="TEST_STORE_KEY_NEXT")
    assert keys.pending_rotation() == new
    keys.begin_rotation(new)
    with pytest.raises(KeyRotationError):
        keys.begin_rotation(os.urandom(32))


def test_parse_hex_key_names_the_source_only() -> None:
    assert parse_hex_key(" " + "0f" * 32 + "\n", "x") == bytes([15]) * 32
    with pytest.raises(KeyFileError, match="the vault entry does not hold a hex key"):
        parse_hex_key("zz", "vault entry")


def test_the_protocol_says_where_a_file_key_is_held_and_that_destroying_it_is_final(
    provider: FileKeyProvider,
) -> None:
    keys: KeyProvider = provider
    assert keys.creates_keys and keys.destroys_key
    assert not keys.has_key() and keys.stored_files() == []
    provider.create()
    provider.begin_rotation(os.urandom(32))
    assert keys.has_key() and keys.stored_files() == [provider.path, provider.next_path]
    provider.destroy()
    assert not keys.has_key() and keys.stored_files() == []


def test_the_protocol_says_an_env_key_lives_outside_the_appliance(monkeypatch: pytest.MonkeyPatch) -> None:
    keys: KeyProvider = EnvKeyProvider("TEST_STORE_KEY")
    assert not keys.creates_keys and not keys.destroys_key and keys.stored_files() == []
    assert not keys.has_key()
    monkeypatch.setenv("TEST_STORE_KEY", os.urandom(32).hex())
    assert keys.has_key() and keys.stored_files() == []
