"""`appliance teams certificate import|show|remove` on a real store, and `doctor`'s bot check reading the
certificate's notAfter: fine far out, a warning inside 30 days, a failure once expired."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from appliance.cli.doctor_checks import check_bot
from appliance.cli.main import cli
from appliance.config import load_settings
from appliance.errors import ApplianceError
from appliance.graph.bot_certificate import BOT_CERTIFICATE
from appliance.store import TenantStore
from appliance.store.setup import initialize_store
from appliance_dev.testing.certificates import self_signed

APP_ID = "5f2c5b52-5b0d-4b0f-9c7e-2c0f3a3b8a11"
TENANT_ID = "0f3c8e55-8d2b-4c58-9a4e-1b2c3d4e5f60"


@pytest.fixture
def home(appliance_home_dir: Path) -> Path:
    (appliance_home_dir / "appliance.toml").write_text(
        f'[teams]\napp_id = "{APP_ID}"\nallowed_tenant_id = "{TENANT_ID}"\n')
    initialize_store(load_settings(appliance_home_dir))
    return appliance_home_dir


def _import(home: Path, pem: bytes) -> str:
    path = home.parent / "bot.pem"
    path.write_bytes(pem)
    result = CliRunner().invoke(cli, ["teams", "certificate", "import", str(path)])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_pem_is_sealed_shown_without_its_key_replaced_and_removed(home: Path) -> None:
    first, second = self_signed(days=200), self_signed(days=300, name="bot-2027")
    assert "stored the bot's certificate CN=aidizen-bot" in _import(home, first.pem)
    database = (home / "appliance.db").read_bytes()
    key_body = first.key_pem.decode().splitlines()[1]
    assert key_body.encode() not in database and b"BEGIN PRIVATE KEY" not in database  # sealed, not plain text

    assert "replaced the earlier certificate with the bot's certificate CN=bot-2027" in _import(home, second.pem)
    shown = CliRunner().invoke(cli, ["teams", "certificate", "show"])
    assert shown.exit_code == 0 and "subject:            CN=bot-2027" in shown.output
    assert "PRIVATE KEY" not in shown.output and "x5t#S256:" in shown.output
    assert f"certificate {shown.output.split('SHA-1 thumbprint:')[1].split()[0]} sealed" in check_bot(
        load_settings(home))

    removed = CliRunner().invoke(cli, ["teams", "certificate", "remove"])
    assert removed.exit_code == 0 and "removed" in removed.output
    with TenantStore.open(load_settings(home)) as store:
        assert store.get_secret(BOT_CERTIFICATE) is None
    with pytest.raises(ApplianceError, match="neither a certificate nor a client secret"):
        check_bot(load_settings(home))


def test_a_pem_with_a_foreign_key_is_refused_and_nothing_is_stored(home: Path) -> None:
    path = home.parent / "mixed.pem"
    path.write_bytes(self_signed().key_pem + self_signed().cert_pem)
    result = CliRunner().invoke(cli, ["teams", "certificate", "import", str(path)])
    assert result.exit_code == 1 and "no certificate in the PEM belongs to its private key" in result.output
    with TenantStore.open(load_settings(home)) as store:
        assert store.get_secret(BOT_CERTIFICATE) is None


def test_doctor_warns_30_days_before_the_certificate_expires_and_fails_after(home: Path) -> None:
    _import(home, self_signed(days=400).pem)
    assert "it expires on" in check_bot(load_settings(home)) and "WARNING" not in check_bot(load_settings(home))
    _import(home, self_signed(days=10).pem)
    assert "WARNING: it expires on" in check_bot(load_settings(home))
    _import(home, self_signed(days=-2).pem)
    with pytest.raises(ApplianceError, match="the bot's certificate expired on") as expired:
        check_bot(load_settings(home))
    assert "az ad app credential reset" in str(expired.value.hint)


def test_a_pem_piped_on_stdin_never_needs_a_file(home: Path) -> None:
    result = CliRunner().invoke(cli, ["teams", "certificate", "import", "-"], input=self_signed(days=90).pem)
    assert result.exit_code == 0 and "stored the bot's certificate" in result.output
    assert "shred -u" not in result.output  # nothing on disk to remove


def test_offboarding_deletes_the_certificate_with_the_other_credentials(home: Path) -> None:
    from appliance.wiring.offboard_local import delete_credentials

    _import(home, self_signed(days=90).pem)
    with TenantStore.open(load_settings(home)) as store:
        outcome = delete_credentials(store)
        assert outcome.status == "done" and "the bot's certificate and private key" in outcome.detail
        assert store.get_secret(BOT_CERTIFICATE) is None
