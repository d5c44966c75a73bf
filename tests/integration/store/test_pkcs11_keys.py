"""The PKCS#11 key provider against SoftHSM2: the store key is wrapped in the token, the store opens
with it, store-key and wrapping-key rotations lose nothing, and destroying the wrapping key shreds."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.config import load_settings
from appliance.store import TenantStore, audit_records, key_provider_for
from appliance.store.errors import KeyFileError
from appliance.store.pkcs11_keys import Pkcs11Config, Pkcs11KeyProvider
from appliance.store.setup import initialize_store
from tests.integration.store.softhsm import SoftHsm, initialise, missing_reason


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoftHsm]:
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    token, config = initialise(tmp_path_factory.mktemp("softhsm"))
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(config)
    yield token
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous


@pytest.fixture
def provider(softhsm: SoftHsm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Pkcs11KeyProvider:
    monkeypatch.setenv("TEST_HSM_PIN", softhsm.pin)
    config = Pkcs11Config(softhsm.module, softhsm.token, f"kek-{uuid.uuid4().hex[:8]}", "TEST_HSM_PIN")
    return Pkcs11KeyProvider(config, tmp_path / "store.key.wrapped", tmp_path / "home")


def test_the_store_key_is_wrapped_in_the_hsm_and_opens_the_store(provider: Pkcs11KeyProvider, tmp_path: Path) -> None:
    key = provider.create()
    envelope = json.loads(provider.path.read_text())
    assert envelope["mechanism"] == "CKM_AES_GCM" and envelope["kek"].endswith("-1")
    assert key.hex() not in provider.path.read_text() and (provider.path.stat().st_mode & 0o777) == 0o600
    assert provider.load() == key
    store = TenantStore(tmp_path / "home" / "appliance.db", provider, create=True)
    store.put_secret("s", "v")
    store.close()
    with TenantStore(tmp_path / "home" / "appliance.db", provider) as reopened:
        assert reopened.get_secret("s") == "v"
    with pytest.raises(KeyFileError, match="already exists"):
        provider.create()


def test_a_tampered_wrapped_key_or_a_wrong_pin_is_refused(provider: Pkcs11KeyProvider,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    provider.create()
    envelope = json.loads(provider.path.read_text())
    envelope["wrapped"] = ("0" if envelope["wrapped"][0] != "0" else "1") + envelope["wrapped"][1:]
    provider.path.write_text(json.dumps(envelope))
    with pytest.raises(KeyFileError, match="does not unwrap"):
        provider.load()
    monkeypatch.setenv("TEST_HSM_PIN", "wrong-pin")
    with pytest.raises(KeyFileError, match="PIN"):
        provider.load()
    monkeypatch.delenv("TEST_HSM_PIN")
    with pytest.raises(KeyFileError, match="not set"):
        provider.load()


def test_store_key_rotation_and_wrapping_key_rotation_lose_nothing(provider: Pkcs11KeyProvider,
                                                                   tmp_path: Path) -> None:
    old_key = provider.create()
    path = tmp_path / "home" / "appliance.db"
    with TenantStore(path, provider, create=True) as store:
        store.put_secret("teams.app_secret", "bot-secret")
        store.run(audit_records.append_record, {"ToolName": "m365_user_get", "Outcome": "Success"})
        store.rotate_key(os.urandom(32))  # the store key: every page and secret re-encrypted
    new_key = provider.load()
    assert new_key != old_key and not provider.next_path.exists()
    label = provider.rotate_wrapping_key()  # the HSM key: the same store key, wrapped anew
    assert label.endswith("-2") and json.loads(provider.path.read_text())["kek"] == label
    assert provider.load() == new_key
    with TenantStore(path, provider) as store:
        assert store.get_secret("teams.app_secret") == "bot-secret" and store.run(audit_records.verify).ok
    old = Pkcs11KeyProvider(provider.config, tmp_path / "old.wrapped", tmp_path / "home")
    old.path.write_text(provider.path.read_text().replace(label, provider.config.key_label + "-1"))
    with pytest.raises(KeyFileError, match="is not on token"):
        old.load()  # the old wrapping key was destroyed


def test_destroy_crypto_shreds(provider: Pkcs11KeyProvider) -> None:
    provider.create()
    wrapped = provider.path.read_text()
    provider.destroy()
    assert not provider.path.exists()
    provider.path.write_text(wrapped)  # even a copy of the wrapped key file is useless now
    with pytest.raises(KeyFileError, match="is not on token"):
        provider.load()


def test_init_with_the_pkcs11_provider(softhsm: SoftHsm, appliance_home_dir: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APPLIANCE_PKCS11_PIN", softhsm.pin)
    (appliance_home_dir / "appliance.toml").write_text(
        f'[store]\nkey_provider = "pkcs11"\npkcs11_module = "{softhsm.module}"\n'
        f'pkcs11_token_label = "{softhsm.token}"\n'
        f'pkcs11_key_label = "init-{uuid.uuid4().hex[:8]}"\n', encoding="utf-8")
    settings = load_settings(appliance_home_dir)
    steps = initialize_store(settings)
    assert "PKCS#11 key" in steps[0] and isinstance(key_provider_for(settings), Pkcs11KeyProvider)
    with TenantStore.open(settings) as store:
        assert store.schema_version >= 1
