"""More `appliance doctor` checks: the Aid's Entra roles, who may use the Aid, the bot's registration and
credential (and its expiry), TLS, and the LLM endpoint in bring-your-own mode. Each returns one line or
raises ApplianceError."""

from __future__ import annotations

import os
import ssl
from datetime import UTC, datetime, timedelta

from appliance.config import Settings
from appliance.errors import ApplianceError

BOT_SECRET_EXPIRES = "teams.app_secret_expires"
WARN_BEFORE = timedelta(days=30)


def check_roles(settings: Settings) -> str:
    """The Aid holds (actively) every Entra role the enabled tools need; a missing one is named with its tools."""
    import asyncio
    import uuid

    from appliance.graph.connect import connect
    from appliance.graph.directory_roles import held_roles, missing_roles, needed_roles
    from appliance.store import TenantStore
    from appliance.wiring.components import enabled_catalog, graph_endpoints, graph_permissions

    with TenantStore.open(settings) as store:
        identity, gateway = connect(graph_endpoints(settings), graph_permissions(settings), store.token_cache)
        oid = str(identity.claims().get("oid", ""))
        held = asyncio.run(held_roles(gateway, oid, str(uuid.uuid4())))
    catalog = enabled_catalog(settings)
    missing = missing_roles(catalog, held)
    if missing:
        named = "; ".join(f"{role} (for {', '.join(tools)})" for role, tools in missing.items())
        raise ApplianceError(f"the Aid lacks Entra roles the enabled tools need: {named}",
                             hint="Assign them to the Aid (docs/DEPLOY.md step 1), or activate them if they are "
                             "only eligible in PIM, or disable those tools in [catalog].")
    return f"the Aid holds the {len(needed_roles(catalog))} Entra roles the enabled tools need"


def check_requesters(settings: Settings) -> str:
    """Somebody may use the Aid: [gate] requesters or requester_groups is not empty."""
    gate = settings.gate
    if not gate.requesters and not gate.requester_groups:
        raise ApplianceError("[gate] requesters and requester_groups are both empty: nobody can use the Aid",
                             hint="Add a mail-enabled group to [gate] requester_groups (docs/DEPLOY.md step 2).")
    return f"{len(gate.requester_groups)} requester group(s), {len(gate.requesters)} named requester(s)"


def check_bot(settings: Settings) -> str:
    """The bot's app id and tenant are set, its certificate or client secret is in the store, and neither is
    about to expire (the certificate's notAfter is read from it; the secret's end date is what the operator
    recorded with `teams secret --expires`)."""
    from appliance.graph.bot_certificate import stored_bot_certificate
    from appliance.store import TenantStore, key_value_settings
    from appliance.wiring.dev import BOT_SECRET

    teams = settings.teams
    if not teams.app_id or not teams.allowed_tenant_id:
        raise ApplianceError("[teams] app_id or allowed_tenant_id is not set",
                             hint="Set them to the bot's app registration and your tenant id (docs/DEPLOY.md step 4).")
    with TenantStore.open(settings) as store:
        has_secret = bool(store.get_secret(BOT_SECRET))
        expires = store.run(key_value_settings.get_setting, BOT_SECRET_EXPIRES)
        certificate = stored_bot_certificate(store)
    if certificate is not None:
        line = f"bot {teams.app_id}: certificate {certificate.sha1_thumbprint_hex} sealed in the store (in use); "
        line += _expiry_line(certificate.not_after, "certificate", CERTIFICATE_RENEWAL)
        if has_secret:  # kept for a rollback: it expiring is worth a warning, never a failure
            line += "; a client secret is stored too (unused while the certificate is there)"
        return line
    if not has_secret:
        raise ApplianceError("neither a certificate nor a client secret of the bot is in the store",
                             hint="Run `appliance teams certificate import bot.pem`, or "
                             "`printf %s \"$BOT_SECRET\" | appliance teams secret --expires YYYY-MM-DD`.")
    when = datetime.fromisoformat(expires).replace(tzinfo=UTC) if expires else None
    return f"bot {teams.app_id}: client secret sealed in the store; " + _expiry_line(when, "client secret",
                                                                                     SECRET_RENEWAL)


SECRET_RENEWAL = ("Create a new one (`az ad app credential reset --id <bot app id> --append`) "
                  "and store it with `appliance teams secret --expires ...`.")
CERTIFICATE_RENEWAL = ("Create a new certificate, upload it (`az ad app credential reset --id <bot app id> "
                       "--cert @bot.crt --append`) and import it: `appliance teams certificate import bot.pem` "
                       "(docs/DEPLOY.md step 4).")


def _expiry_line(when: datetime | None, what: str, renewal: str) -> str:
    """`when` the credential expires: fails once it has, warns inside WARN_BEFORE."""
    if when is None:
        return "its expiry is unknown (set it: `appliance teams secret --expires YYYY-MM-DD`)"
    left = when - datetime.now(UTC)
    if left <= timedelta(0):
        raise ApplianceError(f"the bot's {what} expired on {when.date()}", hint=renewal)
    if left < WARN_BEFORE:
        return f"WARNING: it expires on {when.date()} ({left.days} days): rotate it now"
    return f"it expires on {when.date()}"


def check_tls(settings: Settings) -> str:
    """[teams] tls_cert/tls_key load as a pair and the certificate is not expired (or TLS is at the ingress)."""
    teams = settings.teams
    if not teams.tls_cert:
        return "no [teams] tls_cert: TLS must terminate at your ingress in front of /api/messages"
    from cryptography import x509

    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(teams.tls_cert, teams.tls_key)
        cert = x509.load_pem_x509_certificate(teams.tls_cert.read_bytes())
    except (OSError, ssl.SSLError, ValueError) as exc:
        raise ApplianceError(f"[teams] tls_cert / tls_key do not load as a pair: {type(exc).__name__}",
                             hint="Point them at the PEM certificate (chain) and its private key.") from None
    left = cert.not_valid_after_utc - datetime.now(UTC)
    if left <= timedelta(0):
        raise ApplianceError(f"the TLS certificate expired on {cert.not_valid_after_utc.date()}",
                             hint="Renew it; Teams cannot reach /api/messages with an expired certificate.")
    warning = f" WARNING: {left.days} days left" if left < WARN_BEFORE else ""
    return f"TLS certificate valid until {cert.not_valid_after_utc.date()}{warning}"


def check_llm(settings: Settings) -> str:
    """Local mode, or the BYO endpoint and its API key variable."""
    llm = settings.llm
    if not llm.byo:
        return "local model: nothing leaves the tenant"
    variable = llm.resolved_api_key_env
    if variable and not os.environ.get(variable):
        raise ApplianceError(f"llm.mode {llm.mode}: the API key variable {variable} is not set",
                             hint=f"Expose the key (a mounted secret) as {variable}.")
    return f"bring-your-own LLM: {llm.mode} {llm.model} at {llm.resolved_endpoint}"
