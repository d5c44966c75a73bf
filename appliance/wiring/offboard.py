"""`appliance offboard`, composed: disable the Aid and revoke its sessions (as the Aid, while its token
still works), delete its credentials, crypto-shred the store, remove the rest of $APPLIANCE_HOME, check
what is left, and hand back every step and check for the signed receipt (appliance/audit/receipt.py).

Order matters: Graph accepts the Aid's current access token until it expires, but after the revoke no
refresh works, so every Graph call (disable, read-back, revoke) comes before anything local is destroyed.
Each step is idempotent; a failed step is recorded and the run goes on (see docs/OFFBOARDING.md).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import appliance.wiring.offboard_local as local
from appliance import __version__
from appliance.audit.receipt import Outcome, Recorded, build_receipt
from appliance.config import Settings
from appliance.errors import ApplianceError
from appliance.store.errors import StoreError
from appliance.store.key_provider import KeyProvider
from appliance.store.operator_log import record_operation
from appliance.store.tenant_store import TenantStore, database_path, key_provider_for
from appliance.wiring.dev import DEV_CLIENT_ID, DEV_TENANT

if TYPE_CHECKING:
    from appliance.graph.connect import GraphEndpoints
    from appliance.graph.gateway import GraphGateway
    from appliance.graph.offboarding import AidAccount

TITLES = {
    "disable_aid": "Disable the Aid's user account (as the Aid)",
    "revoke_sessions": "Revoke the Aid's sign-in sessions and refresh tokens (as the Aid)",
    "delete_credentials": "Delete the Aid's token cache and the bot secret from the store",
    "shred_store": "Crypto-shred the store (key destroyed first, files overwritten and removed)",
    "remove_files": "Remove the rest of what the appliance wrote under $APPLIANCE_HOME",
    "aid_disabled": "The Aid's account reads back disabled",
    "refresh_refused": "Entra refuses the Aid's old refresh token",
    "store_gone": "No store file and no key file exists",
    "home_empty": "No file is left under $APPLIANCE_HOME",
}
Report = Callable[[Literal["step", "check"], Recorded], None]


class OffboardError(ApplianceError):
    """Offboarding stopped before it changed anything."""

    hint = "Nothing was changed. Fix the cause above, then run `appliance offboard` again."


def utc_now() -> str:
    """`2026-05-21T10:14:05.123Z`."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class OffboardPlan:
    """What one run will destroy, and the text the operator must type back to let it."""

    settings: Settings
    tenant: str
    keys: KeyProvider
    paths: list[Path]
    remove_models: bool

    @property
    def confirm_text(self) -> str:
        """The configured tenant (`[graph] tenant_id`; dev: contoso.onmicrosoft.com), else $APPLIANCE_HOME."""
        return self.tenant or str(self.settings.home)

    def matches(self, typed: str) -> bool:
        """Whether the operator typed the confirmation text back (case and surrounding blanks ignored)."""
        return typed.strip().casefold() == self.confirm_text.casefold()

    def destroys(self) -> list[str]:
        """One line per thing this run destroys, in order."""
        home = self.settings.home
        kept = home / "models"
        return [
            "the Aid's user account is disabled and its sessions revoked (as the Aid, through Microsoft Graph)",
            f"the Aid's token cache and the bot secret, then the whole store {database_path(self.settings)} "
            f"(crypto-shredded: the {self.keys.describe()} destroyed first, then the files overwritten and removed)",
            *[f"{p}" for p in self.paths],
            *([] if self.remove_models else [f"(kept: model files in {kept}; --remove-models removes them)"]),
        ]


def plan_offboard(settings: Settings, *, remove_models: bool) -> OffboardPlan:
    """The plan for this $APPLIANCE_HOME; raises (before anything changes) if its Graph settings are unusable."""
    tenant = settings.graph.tenant_id or (DEV_TENANT if settings.graph.dev else "")
    if database_path(settings).exists() and not settings.graph.dev:
        from appliance.wiring.components import graph_endpoints

        graph_endpoints(settings)  # ConfigError now rather than after the confirmation
    paths = local.appliance_paths(settings, remove_models=remove_models)
    return OffboardPlan(settings, tenant, key_provider_for(settings), paths, remove_models)


@dataclass
class OffboardResult:
    """Every step and check of one run, with who the Aid was (when the token cache still said)."""

    plan: OffboardPlan
    started_at: str
    steps: list[Recorded] = field(default_factory=list)
    checks: list[Recorded] = field(default_factory=list)
    aid: AidAccount | None = None
    finished_at: str = ""

    def receipt(self) -> dict[str, Any]:
        """The unsigned receipt of this run."""
        settings, aid = self.plan.settings, self.aid
        models = settings.home / "models"
        subject = {
            "tenant": self.plan.tenant or None,
            "tenant_guid": aid.tenant_id if aid else None,
            "dev_tenant": settings.graph.dev,
            "aid_upn": aid.upn if aid else None,
            "aid_object_id": aid.id if aid else None,
            "appliance_home": str(settings.home),
            "store": str(database_path(settings)),
            "store_key": self.plan.keys.describe(),
            "models": "removed" if self.plan.remove_models else f"kept ({models})",
        }
        return build_receipt(subject=subject, steps=self.steps, checks=self.checks, started_at=self.started_at,
                             finished_at=self.finished_at, appliance_version=__version__)

    def record(self, kind: Literal["step", "check"], name: str, work: Callable[[], Outcome], report: Report) -> Outcome:
        """Run one step or check, time it, turn an unexpected exception into `failed`, and report it."""
        started = utc_now()
        try:
            outcome = work()
        except Exception as exc:  # a step must never stop the steps after it
            outcome = Outcome("failed", f"unexpected {type(exc).__name__}: {exc}",
                              "The steps after it still ran. Report this message; if this step can still be done "
                              "(see the receipt), running `appliance offboard` again repeats it safely.")
        entry = Recorded(name, TITLES[name], outcome, started, utc_now())
        (self.steps if kind == "step" else self.checks).append(entry)
        report(kind, entry)
        return outcome


def run_offboard(plan: OffboardPlan, report: Report) -> OffboardResult:
    """Run every step and check in order (see the module docstring); never raises after the first change."""
    result = OffboardResult(plan, utc_now())
    settings = plan.settings
    store = _open_store(plan)
    try:
        if store is not None:  # the chain's last record; the signed receipt is what outlives the shred
            store.run(record_operation, "offboard", "offboarding started: the Aid is disabled and signed out, "
                      "then every credential and the store are destroyed")
        _graph_steps(plan, store, result, report)
        result.record("step", "delete_credentials", lambda: local.delete_credentials(store), report)
    finally:
        if store is not None:
            store.close()
    result.record("step", "shred_store", lambda: local.shred(settings, plan.keys), report)
    result.record("step", "remove_files", lambda: local.remove_files(plan.paths), report)
    result.record("check", "store_gone", lambda: local.store_is_gone(settings, plan.keys), report)
    kept = None if plan.remove_models else settings.home / "models"
    result.record("check", "home_empty", lambda: local.home_is_empty(settings.home, kept), report)
    result.finished_at = utc_now()
    return result


def _open_store(plan: OffboardPlan) -> TenantStore | None:
    """The store, or None when it (or its key file) is already gone; refuses a store that exists but won't open."""
    keys = plan.keys
    if not database_path(plan.settings).exists():
        return None
    if keys.destroys_key and not keys.stored_files():
        return None  # the key is destroyed: nothing can read the store, the shred step removes its files
    try:
        return TenantStore.open(plan.settings)
    except StoreError as exc:
        raise OffboardError(
            f"the store exists but cannot be opened: {exc.message}",
            hint="Nothing was changed. Fix the store key (the Aid's token is inside; without it the Aid cannot be "
            "signed out), then run again. If the key is lost for good, delete the key file and run again: the files "
            "are then shredded and an admin must disable the Aid in Entra.",
        ) from exc


@dataclass
class _AidSession:
    """The Aid acting as itself, or the outcomes to record instead when it cannot."""

    gateway: GraphGateway | None = None
    refresh_token: str | None = None
    instead: dict[str, Outcome] = field(default_factory=dict)


GRAPH_PHASE: tuple[tuple[Literal["step", "check"], str], ...] = (
    ("step", "disable_aid"),
    ("check", "aid_disabled"),
    ("step", "revoke_sessions"),
    ("check", "refresh_refused"),
)


def _graph_steps(plan: OffboardPlan, store: TenantStore | None, result: OffboardResult, report: Report) -> None:
    """Disable, read back, revoke, try the old refresh token: each recorded, whatever happens."""
    from appliance.graph.offboarding import cached_aid

    blob = store.token_cache.load_token_cache() if store is not None else None
    result.aid = cached_aid(blob)
    instead = _no_token_left()
    if result.aid is not None and store is not None:
        try:
            _act_as_aid(plan.settings, store, result.aid, result, report)
        except Exception as exc:  # the dev tenant or the endpoints failed: record what was not done
            why = f"stopped by {type(exc).__name__}: {exc}"
            instead = dict.fromkeys(TITLES, Outcome("failed", why, "An admin must disable the Aid and revoke its "
                                                    "sessions in the Entra admin center."))
    done = {entry.name for entry in result.steps + result.checks}
    for kind, name in GRAPH_PHASE:
        if name not in done:
            result.record(kind, name, lambda name=name: instead[name], report)  # type: ignore[misc]


def _act_as_aid(
    settings: Settings, store: TenantStore, aid: AidAccount, result: OffboardResult, report: Report
) -> None:
    from appliance.graph import offboarding as graph

    with _endpoints(settings) as endpoints:
        session, scopes = _sign_in(settings, store, endpoints, aid)
        with asyncio.Runner() as loop:

            def act(name: str, call: Callable[[GraphGateway], Any]) -> Callable[[], Outcome]:
                def work() -> Outcome:
                    if session.gateway is None:
                        return session.instead[name]
                    outcome: Outcome = loop.run(call(session.gateway))
                    return outcome

                return work

            disabled = result.record("step", "disable_aid", act("disable_aid", lambda gw: graph.disable_aid(gw, aid)),
                                     report)
            result.record("check", "aid_disabled", act("aid_disabled", lambda gw: _read_back(gw, aid, disabled)),
                          report)
            result.record("step", "revoke_sessions", act("revoke_sessions", lambda gw: graph.revoke_sessions(gw, aid)),
                          report)
        token = session.refresh_token
        result.record("check", "refresh_refused", lambda: graph.refresh_refused(endpoints, scopes, token) if token
                      else Outcome("skipped", "no refresh token was in the cache"), report)


async def _read_back(gw: GraphGateway, aid: AidAccount, disabled: Outcome) -> Outcome:
    from appliance.graph.gateway import GraphCallFailed
    from appliance.graph.offboarding import account_enabled, admin_disable_hint

    try:
        enabled = await account_enabled(gw, aid)
    except GraphCallFailed as exc:
        if exc.status == 404:
            return Outcome("passed", f"{aid.upn} no longer exists in the directory")
        status = "needs_admin" if disabled.status == "needs_admin" else "failed"
        detail = f"could not read the account back ({exc.status} {exc.code})"
        return Outcome(status, detail, admin_disable_hint(aid.upn))
    if not enabled:
        return Outcome("passed", f"Graph reads accountEnabled=false for {aid.upn}")
    status = "needs_admin" if disabled.status == "needs_admin" else "failed"
    return Outcome(status, f"{aid.upn} is still enabled (accountEnabled=true)", admin_disable_hint(aid.upn))


def _sign_in(
    settings: Settings, store: TenantStore, endpoints: GraphEndpoints, aid: AidAccount
) -> tuple[_AidSession, list[str]]:
    """Connect as the Aid with the sealed token cache; on failure, say what each Graph step records instead."""
    from appliance.graph.auth import graph_scopes
    from appliance.graph.connect import connect
    from appliance.graph.errors import GraphAuthError
    from appliance.graph.offboarding import admin_disable_hint, admin_revoke_hint, cached_refresh_token
    from appliance.wiring.components import graph_permissions

    permissions = graph_permissions(settings)
    session = _AidSession()
    try:
        identity, session.gateway = connect(endpoints, permissions, store.token_cache)
        identity.access_token()  # refreshes now if needed, so the refresh token read below is the newest
    except GraphAuthError as exc:
        session.gateway = None
        disabled = "AADSTS50057" in exc.message
        why = f"the Aid cannot get a token any more ({exc.message})"
        session.instead = {
            "disable_aid": Outcome("already_done", why) if disabled else Outcome("needs_admin", why,
                                                                                    admin_disable_hint(aid.upn)),
            "aid_disabled": Outcome("passed", why) if disabled else Outcome("needs_admin", why,
                                                                              admin_disable_hint(aid.upn)),
            "revoke_sessions": Outcome("needs_admin", why, admin_revoke_hint(aid.upn)),
        }
    except Exception as exc:  # Entra unreachable, TLS, egress refusal
        session.gateway = None
        why = f"could not reach Entra as the Aid ({type(exc).__name__}: {exc})"
        later = " (The appliance's token is destroyed by this run, so it cannot retry later.)"
        session.instead = {
            "disable_aid": Outcome("failed", why, admin_disable_hint(aid.upn) + later),
            "aid_disabled": Outcome("failed", why, admin_disable_hint(aid.upn)),
            "revoke_sessions": Outcome("failed", why, admin_revoke_hint(aid.upn) + later),
        }
    session.refresh_token = cached_refresh_token(store.token_cache.load_token_cache())
    return session, graph_scopes(permissions)


def _no_token_left() -> dict[str, Outcome]:
    why = "no token cache is left on this appliance (its store or key is gone): the Aid cannot act as itself"
    hint = ("If no earlier `appliance offboard` disabled the Aid and revoked its sessions, an admin must do both in "
            "the Entra admin center.")
    return {
        "disable_aid": Outcome("skipped", why, hint),
        "aid_disabled": Outcome("skipped", "nothing left to read the account with"),
        "revoke_sessions": Outcome("skipped", why, hint),
        "refresh_refused": Outcome("skipped", "no refresh token is left on this appliance to try"),
    }


@contextmanager
def _endpoints(settings: Settings) -> Iterator[GraphEndpoints]:
    """The Graph endpoints; in dev, a dev tenant started for the while if none listens on [devtenant] port."""
    from appliance.graph.connect import dev_endpoints
    from appliance.wiring.components import graph_endpoints

    if not settings.graph.dev or _listening(settings.devtenant.host, settings.devtenant.port):
        yield graph_endpoints(settings)
        return
    from appliance.wiring.dev_world import DevTenant

    with DevTenant(settings.home / "devtenant", host=settings.devtenant.host) as tenant:
        yield dev_endpoints(settings.graph.tenant_id or DEV_TENANT, settings.graph.client_id or DEV_CLIENT_ID,
                            (tenant.host, tenant.port), str(tenant.keys.ca_cert))


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False
