"""`appliance offboard` end to end against the dev tenant: real msal and msgraph-sdk over HTTPS, a real
SQLCipher store and key file, the real CLI (in-process, so the dev tenant's state can be inspected)."""

from __future__ import annotations

import hashlib
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from appliance.audit.receipt import verify_receipt
from appliance.cli.main import cli
from appliance.config import load_settings
from appliance.store import database_path, default_key_file
from appliance_dev.dev_stack import DevStack

AID = "aid@contoso.com"


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DevStack]:
    """A dev tenant and an initialised dev home (store, key, the Aid signed in, the bot registered), plus the
    files a running appliance leaves: logs, cache, a model file."""
    home = tmp_path / "home"
    monkeypatch.setenv("APPLIANCE_HOME", str(home))
    monkeypatch.delenv("APPLIANCE_MODELS_DIR", raising=False)
    with DevStack(home) as running:
        leftovers = {"logs/ops.jsonl": '{"event":"turn"}\n', "cache/index.bin": "x", "models/m.gguf": "GGUF"}
        for name, text in leftovers.items():
            (home / name).parent.mkdir(exist_ok=True)
            (home / name).write_text(text)
        yield running


def let_the_aid_disable_itself(stack: DevStack) -> None:
    """A tenant whose Aid also holds Privileged Authentication Administrator: the one role (besides Global
    Administrator) that Microsoft's table (graph-docs api-reference/v1.0/resources/users.md, "Who can update
    sensitive attributes?") lets change an account holding User and Authentication Administrator, the Aid's
    own included. Without it (the seeded least-privilege Aid, as in most real tenants) the disable needs an
    admin: see `test_the_least_privileged_aid_cannot_disable_itself_and_an_admin_is_asked_to`."""
    assert stack.tenant is not None
    aid_user(stack)["directoryRoles"].append("Privileged Authentication Administrator")
    stack.tenant.context.state.save()


def offboard(*args: str, typed: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["offboard", *args], input=typed, catch_exceptions=False)


def aid_user(stack: DevStack) -> dict[str, Any]:
    assert stack.tenant is not None
    user = stack.tenant.context.state.user(AID)
    assert user is not None
    return user


def aid_refresh_tokens(stack: DevStack) -> dict[str, bool]:
    assert stack.tenant is not None
    grants = stack.tenant.context.state.data["refreshTokens"].items()
    return {token: grant["revoked"] for token, grant in grants if grant["upn"] == AID}


def audits_for(stack: DevStack, correlation_id: str) -> list[dict[str, Any]]:
    assert stack.tenant is not None
    return [a for a in stack.tenant.context.state.data["directoryAudits"] if a["correlationId"] == correlation_id]


def by_name(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in entries}


def files_under(home: Path) -> list[str]:
    return sorted(str(p.relative_to(home)) for p in home.rglob("*") if p.is_file())


def test_offboard_disables_revokes_shreds_and_signs_a_receipt(
    stack: DevStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, settings = stack.home, load_settings(stack.home)
    key_file, database = default_key_file(settings), database_path(settings)
    assert key_file.exists() and database.exists() and aid_user(stack)["accountEnabled"] is True
    assert not all(aid_refresh_tokens(stack).values())  # the Aid holds a live refresh token
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(out)  # the default receipt goes to the current directory
    let_the_aid_disable_itself(stack)

    result = offboard("--yes")

    assert result.exit_code == 0, result.output
    [receipt_file] = list(out.glob("offboard-receipt-contoso.onmicrosoft.com-*.json"))
    assert stat.S_IMODE(receipt_file.stat().st_mode) == 0o600
    receipt = verify_receipt(receipt_file.read_bytes()).receipt
    steps, checks = by_name(receipt["steps"]), by_name(receipt["checks"])
    assert list(steps) == ["disable_aid", "revoke_sessions", "delete_credentials", "shred_store", "remove_files"]
    assert {name: s["status"] for name, s in steps.items()} == dict.fromkeys(steps, "done"), result.output
    assert {name: c["status"] for name, c in checks.items()} == {
        "aid_disabled": "passed", "refresh_refused": "passed", "store_gone": "passed", "home_empty": "passed",
    }
    assert "invalid_grant" in checks["refresh_refused"]["detail"]
    assert receipt["subject"]["aid_upn"] == AID and receipt["subject"]["tenant"] == "contoso.onmicrosoft.com"
    assert receipt["subject"]["tenant_guid"] == stack.tenant.context.state.tenant_id  # type: ignore[union-attr]
    assert receipt["appliance_version"] and receipt["exit_code"] == 0

    # the dev tenant: the Aid is disabled, both writes are in its directory audit (joined by the receipt's
    # client-request-ids, done by the Aid itself), and every refresh token of the Aid is revoked
    user = aid_user(stack)
    assert user["accountEnabled"] is False
    for step, activity in (("disable_aid", "Disable account"), ("revoke_sessions", "Invalidate all refresh tokens")):
        [entry] = audits_for(stack, steps[step]["evidence"]["client_request_id"])
        assert entry["activityDisplayName"].startswith(activity)
        assert entry["initiatedBy"]["user"]["id"] == user["id"] == entry["targetResources"][0]["id"]
    assert all(aid_refresh_tokens(stack).values())

    # the appliance: store, key, logs, cache, configuration and dev tenant state gone; the model kept
    assert not key_file.exists() and not database.exists()
    assert not (home / "logs").exists() and not (home / "cache").exists() and not (home / "devtenant").exists()
    assert files_under(home) == ["models/m.gguf"]
    assert "every step done" in result.output and str(receipt_file) in result.output

    # the receipt verifies through the CLI, and not after one byte of it is changed
    verified = offboard("verify", str(receipt_file))
    assert verified.exit_code == 0 and "signature valid" in verified.output and "Disable the Aid" in verified.output
    data = bytearray(receipt_file.read_bytes())
    data[data.index(b"aid@contoso.com")] = ord("b")
    tampered = tmp_path / "tampered.json"
    tampered.write_bytes(bytes(data))
    refused = offboard("verify", str(tampered))
    assert refused.exit_code == 1 and "signature does not match" in refused.output

    # a second run: nothing left to do, nothing crashes, every step already done or harmlessly skipped
    again = offboard("--yes", "--receipt", str(tmp_path / "second.json"))
    assert again.exit_code == 0, again.output
    second = verify_receipt((tmp_path / "second.json").read_bytes()).receipt
    assert {s["status"] for s in second["steps"]} <= {"already_done", "skipped"}, again.output
    assert {c["status"] for c in second["checks"]} <= {"passed", "skipped"}, again.output
    assert by_name(second["steps"])["shred_store"]["status"] == "already_done"
    assert "nothing was left to do" in again.output


def snapshot(stack: DevStack) -> dict[str, str]:
    settings = load_settings(stack.home)
    paths = [p for p in stack.home.rglob("*") if p.is_file()] + [default_key_file(settings)]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def test_a_wrong_tenant_id_aborts_with_nothing_changed(stack: DevStack, tmp_path: Path) -> None:
    before, tokens, audits = snapshot(stack), aid_refresh_tokens(stack), len(stack.tenant.context.state.data["directoryAudits"])  # type: ignore[union-attr]  # noqa: E501

    result = offboard("--receipt", str(tmp_path / "r.json"), typed="fabrikam.onmicrosoft.com\n")

    assert result.exit_code == 1
    assert "not 'contoso.onmicrosoft.com': aborted" in result.output and "Nothing was changed" in result.output
    assert snapshot(stack) == before and aid_refresh_tokens(stack) == tokens
    assert aid_user(stack)["accountEnabled"] is True
    assert len(stack.tenant.context.state.data["directoryAudits"]) == audits  # type: ignore[union-attr]
    assert not (tmp_path / "r.json").exists()


def test_a_graph_503_on_disable_is_a_failed_step_and_the_rest_still_runs(stack: DevStack, tmp_path: Path) -> None:
    assert stack.tenant is not None
    stack.tenant.context.faults.set([{"path": r"^/v1\.0/users/[^/]+$", "method": "PATCH", "status": 503,
                                      "retry_after": 0}])

    result = offboard("--receipt", str(tmp_path / "r.json"), typed="  CONTOSO.onmicrosoft.com \n")

    assert result.exit_code == 1, result.output
    receipt = verify_receipt((tmp_path / "r.json").read_bytes()).receipt
    steps, checks = by_name(receipt["steps"]), by_name(receipt["checks"])
    assert steps["disable_aid"]["status"] == "failed" and "503" in steps["disable_aid"]["detail"]
    assert "Entra admin center" in steps["disable_aid"]["hint"]
    assert [steps[n]["status"] for n in ("revoke_sessions", "delete_credentials", "shred_store", "remove_files")] == [
        "done"
    ] * 4
    assert checks["aid_disabled"]["status"] == "failed" and checks["refresh_refused"]["status"] == "passed"
    assert checks["store_gone"]["status"] == "passed" and receipt["exit_code"] == 1
    assert aid_user(stack)["accountEnabled"] is True and all(aid_refresh_tokens(stack).values())
    assert "FAILED" in result.output and "what to do:" in result.output


def test_graph_refusing_the_disable_asks_an_admin_to_do_it(stack: DevStack, tmp_path: Path) -> None:
    assert stack.tenant is not None
    stack.tenant.context.faults.set([{"path": r"^/v1\.0/users/[^/]+$", "method": "PATCH", "status": 403}])
    key = Ed25519PrivateKey.generate()
    signing, public = tmp_path / "signing.pem", tmp_path / "signing.pub.pem"
    signing.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))

    result = offboard("--yes", "--receipt", str(tmp_path / "r.json"), "--signing-key", str(signing))

    assert result.exit_code == 3, result.output
    verified = offboard("verify", str(tmp_path / "r.json"), "--public-key", str(public))
    assert verified.exit_code == 0 and "matches the public key you gave" in verified.output
    receipt = verify_receipt((tmp_path / "r.json").read_bytes(), public_key=key.public_key()).receipt
    assert receipt["signer"]["origin"] == "operator"
    steps, checks = by_name(receipt["steps"]), by_name(receipt["checks"])
    assert steps["disable_aid"]["status"] == "needs_admin" and checks["aid_disabled"]["status"] == "needs_admin"
    assert f"An admin must disable {AID} in the Entra admin center" in steps["disable_aid"]["hint"]
    assert steps["revoke_sessions"]["status"] == "done" and checks["home_empty"]["status"] == "passed"
    assert "an admin must still act" in result.output


def test_the_least_privileged_aid_cannot_disable_itself_and_an_admin_is_asked_to(stack: DevStack,
                                                                                  tmp_path: Path) -> None:
    """The seeded Aid (User + Authentication Administrator, no PAA) meets Microsoft's table on its own account:
    Graph refuses the disable (403), the Aid still revokes its own sessions (a user may, user-revokesigninsessions
    .md), the store is shredded, and the run ends 3 (an admin must act) naming the admin center step."""
    result = offboard("--yes", "--receipt", str(tmp_path / "r.json"))

    assert result.exit_code == 3, result.output
    receipt = verify_receipt((tmp_path / "r.json").read_bytes()).receipt
    steps, checks = by_name(receipt["steps"]), by_name(receipt["checks"])
    assert steps["disable_aid"]["status"] == "needs_admin" and "403" in steps["disable_aid"]["detail"]
    assert f"An admin must disable {AID} in the Entra admin center" in steps["disable_aid"]["hint"]
    assert steps["revoke_sessions"]["status"] == "done" and checks["refresh_refused"]["status"] == "passed"
    assert aid_user(stack)["accountEnabled"] is True and all(aid_refresh_tokens(stack).values())
    assert checks["store_gone"]["status"] == "passed" and "an admin must still act" in result.output
    [refused] = [a for a in stack.tenant.context.state.data["directoryAudits"]  # type: ignore[union-attr]
                 if a["correlationId"] == steps["disable_aid"]["evidence"]["client_request_id"]]
    assert refused["result"] == "failure" and refused["activityDisplayName"] == "Disable account"


def test_the_receipt_is_never_written_into_the_home_or_over_a_file(stack: DevStack, tmp_path: Path) -> None:
    inside = offboard("--yes", "--receipt", str(stack.home / "r.json"))
    existing = tmp_path / "exists.json"
    existing.write_text("keep me")
    over = offboard("--yes", "--receipt", str(existing))
    assert inside.exit_code == over.exit_code == 1
    assert "inside $APPLIANCE_HOME" in inside.output and "never overwritten" in over.output
    assert existing.read_text() == "keep me" and database_path(load_settings(stack.home)).exists()


def test_with_no_dev_tenant_running_offboard_starts_one_for_the_while(stack: DevStack, tmp_path: Path) -> None:
    assert stack.tenant is not None
    let_the_aid_disable_itself(stack)
    stack.tenant.stop()  # nothing listens on [devtenant] port now; the state stays in $APPLIANCE_HOME/devtenant

    result = offboard("--yes", "--receipt", str(tmp_path / "r.json"))

    assert result.exit_code == 0, result.output
    receipt = verify_receipt((tmp_path / "r.json").read_bytes()).receipt
    assert by_name(receipt["steps"])["disable_aid"]["status"] == "done"
    assert by_name(receipt["checks"])["refresh_refused"]["status"] == "passed"
    assert not (stack.home / "devtenant").exists()


def test_a_store_that_will_not_open_stops_before_anything_changes(stack: DevStack, tmp_path: Path) -> None:
    key_file = default_key_file(load_settings(stack.home))
    key_file.chmod(0o644)  # the store refuses a key others could read
    before = snapshot(stack)

    result = offboard("--yes", "--receipt", str(tmp_path / "r.json"))

    assert result.exit_code == 1 and "cannot be opened" in result.output and "Nothing was changed" in result.output
    assert snapshot(stack) == before and aid_user(stack)["accountEnabled"] is True
    assert not (tmp_path / "r.json").exists()
