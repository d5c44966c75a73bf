"""The egress guard through real components, for every HTTP stack in the process (httpx sync and async,
requests, aiohttp) and the process-wide socket guard (in a child process: audit hooks cannot be removed).

Refused: a real listener on 127.0.0.1 that is on no allowlist sees no connection and no byte; the
refusal is counted and logged exactly once, with host and port only (never the path or query).
Allowed: a mapped host is reached over real TLS with the real URL, Host header and SNI, and the
certificate is verified against the real name, not the mapped address.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import ssl
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from appliance import ops_log
from appliance.egress import Allowlist, EgressBlocked, blocked_count
from appliance.egress.aiohttp_connector import guarded_client_session
from appliance.egress.allowlist import HostMap
from appliance.egress.httpx_transport import AsyncGuardedTransport, GuardedTransport
from appliance.egress.requests_adapter import guarded_session
from appliance_dev.devtenant.certs import DevTenantKeys, ensure_keys
from tests.conftest import REPO_ROOT
from tests.integration.egress.servers import EchoTLSServer, Listener, UdpSink, ca_context

STACKS = ("httpx", "httpx-async", "requests", "aiohttp")
KIND = {"httpx": "httpx", "httpx-async": "httpx", "requests": "requests", "aiohttp": "aiohttp"}
GRAPH = Allowlist(["https://graph.microsoft.com"])
CANARY = "canary-7f3a"
LOG_FIELDS = {"ts", "level", "event", "host", "port", "kind"}


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> DevTenantKeys:
    return ensure_keys(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def tls_server(keys: DevTenantKeys) -> Iterator[EchoTLSServer]:
    server = EchoTLSServer(keys)
    yield server
    server.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


@pytest.fixture
def ops_lines(tmp_path: Path) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The ops log of this process, configured into tmp_path; returns a reader of its JSON lines."""
    root, ops = logging.getLogger(), logging.getLogger(ops_log.LOGGER_NAME)
    levels = root.level, ops.level
    path = ops_log.configure(tmp_path / "logs", b"test-salt", to_stderr=False)
    yield lambda: [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for handler in list(root.handlers):
        if getattr(handler, "_aidizen", False):
            root.removeHandler(handler)
            handler.close()
    root.setLevel(levels[0])
    ops.setLevel(levels[1])


async def fetch(stack: str, url: str, allow: Allowlist, host_map: HostMap | None = None,
                tls: Any = None, proxy: str | None = None) -> tuple[int, dict[str, Any]]:
    """GET `url` through `stack`'s guarded client; (status, JSON body)."""
    if stack == "httpx":
        transport = GuardedTransport(allow, host_map=host_map, verify=tls or True)
        with httpx.Client(transport=transport, timeout=5) as client:
            response = client.get(url)
            return response.status_code, response.json()
    if stack == "httpx-async":
        async_transport = AsyncGuardedTransport(allow, host_map=host_map, verify=tls or True)
        async with httpx.AsyncClient(transport=async_transport, timeout=5) as async_client:
            response = await async_client.get(url)
            return response.status_code, response.json()
    if stack == "requests":
        with guarded_session(allow, host_map=host_map, tls=tls) as session:
            proxies = {"http": proxy, "https": proxy} if proxy else None
            reply = session.get(url, timeout=5, proxies=proxies)
            return reply.status_code, reply.json()
    async with guarded_client_session(allow, host_map, tls) as aio, aio.get(url, proxy=proxy) as answer:
        return answer.status, await answer.json()


def _blocked_events(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if line.get("event") == "egress.blocked"]


@pytest.mark.parametrize("stack", STACKS)
async def test_each_stack_refuses_an_unlisted_local_listener_before_any_byte(
    stack: str, listener: Listener, ops_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    before = blocked_count("127.0.0.1")
    with pytest.raises(EgressBlocked, match=f"127.0.0.1:{listener.port}"):
        await fetch(stack, f"http://127.0.0.1:{listener.port}/v1.0/users?token={CANARY}", GRAPH)
    assert listener.seen() == (0, b"")  # no connection, so not a byte
    assert blocked_count("127.0.0.1") == before + 1
    (event,) = _blocked_events(ops_lines())
    assert set(event) == LOG_FIELDS
    assert (event["host"], event["port"], event["kind"]) == ("127.0.0.1", listener.port, KIND[stack])
    text = json.dumps(ops_lines())
    assert CANARY not in text and "/v1.0/users" not in text


@pytest.mark.parametrize("stack", STACKS)
async def test_each_stack_refuses_a_look_alike_of_an_allowed_host(stack: str) -> None:
    """Cyrillic 'г' in 'graph': every stack IDNA-encodes it (xn--...) and the guard compares that."""
    before = blocked_count()
    with pytest.raises(EgressBlocked, match="xn--"):
        await fetch(stack, "https://gгaph.microsoft.com/v1.0/me", GRAPH)
    assert blocked_count() == before + 1


@pytest.mark.parametrize("stack", ["requests", "aiohttp"])
async def test_a_proxy_off_the_allowlist_is_refused_before_any_byte(stack: str, listener: Listener) -> None:
    with pytest.raises(EgressBlocked, match=f"127.0.0.1:{listener.port}"):
        await fetch(stack, "https://graph.microsoft.com/v1.0/me", GRAPH, proxy=f"http://127.0.0.1:{listener.port}")
    assert listener.seen() == (0, b"")


@pytest.mark.parametrize("stack", STACKS)
async def test_each_stack_reaches_a_mapped_host_with_the_real_url_host_and_sni(
    stack: str, tls_server: EchoTLSServer, keys: DevTenantKeys
) -> None:
    host_map = {"graph.microsoft.com": ("127.0.0.1", tls_server.port)}
    tls = ca_context(keys.ca_cert)
    status, seen = await fetch(stack, "https://graph.microsoft.com/v1.0/me?$select=id", GRAPH, host_map, tls)
    assert status == 200
    assert seen == {"host": "graph.microsoft.com", "path": "/v1.0/me?$select=id", "sni": "graph.microsoft.com"}
    assert tls.check_hostname and tls.verify_mode == ssl.CERT_REQUIRED  # the shared context was not weakened


@pytest.mark.parametrize("stack", STACKS)
async def test_tls_verifies_the_real_name_not_the_mapped_address(
    stack: str, tls_server: EchoTLSServer, keys: DevTenantKeys
) -> None:
    """The server's certificate names 127.0.0.1 but not example.org: mapping example.org there must fail."""
    host_map = {"example.org": ("127.0.0.1", tls_server.port)}
    with pytest.raises(Exception, match="certificate verify failed") as failure:
        await fetch(stack, "https://example.org/", Allowlist(["https://example.org"]), host_map,
                    ca_context(keys.ca_cert))
    assert "Hostname mismatch" in str(failure.value) and "example.org" in str(failure.value)
    assert tls_server.sni[-1] == "example.org"


def test_the_socket_guard_refuses_raw_sockets_and_keeps_listening_and_mapped_tls(
    tmp_path: Path, listener: Listener, tls_server: EchoTLSServer, keys: DevTenantKeys
) -> None:
    udp = UdpSink()
    log_dir = tmp_path / "child-logs"
    config = {"log_dir": str(log_dir), "ca": str(keys.ca_cert), "blocked_port": listener.port,
              "udp_port": udp.port, "tls_port": tls_server.port}
    child = subprocess.Popen([sys.executable, "-m", "tests.integration.egress.guard_child", json.dumps(config)],
                             cwd=REPO_ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    assert child.stdout is not None
    steps: dict[str, dict[str, Any]] = {}
    try:
        for line in child.stdout:
            step = json.loads(line)
            steps[step["step"]] = step
            if step["step"] == "listening":  # connect from outside to the guarded process's listener
                with socket.create_connection(("127.0.0.1", step["port"]), timeout=5) as peer:
                    peer.sendall(b"ping")
        stderr = child.communicate(timeout=60)[1]
    finally:
        child.kill()
    assert child.returncode == 0, stderr

    assert steps["install_again_same"]["result"] is True
    assert steps["install_again_other"] == {"step": "install_again_other", "result": "SocketGuardError", "hint": True}
    assert steps["accepted"]["data"] == "ping"  # bind, listen and accept are never judged
    assert steps["bind_localhost_name"]["result"] == "ok"
    assert steps["listen_host_resolvable"] == {"step": "listen_host_resolvable", "result": True, "connectable": False}
    refused = ["create_connection", "connect_ip_literal", "connect_ex", "localhost_other_port",
               "lookup_unlisted_name", "gethostbyname_unlisted", "udp_sendto", "asyncio_open_connection"]
    refused += ["v4_mapped_v6"] if "v4_mapped_v6" in steps else []
    assert {name: steps[name]["result"] for name in refused} == dict.fromkeys(refused, "blocked")
    assert listener.seen() == (0, b"") and udp.seen() == []
    udp.close()

    assert steps["af_unix"]["result"] == "ok"
    expected = {"status": 200, "host": "graph.microsoft.com", "sni": "graph.microsoft.com"}
    assert {k: steps["mapped_raw_socket"][k] for k in expected} == expected
    assert steps["allowed_name_resolved"]["status"] == 200 and steps["allowed_name_resolved"]["sni"] == "localhost"
    assert {k: steps["httpx_under_guard"][k] for k in expected} == expected

    lines = [json.loads(line) for line in (log_dir / "ops.jsonl").read_text(encoding="utf-8").splitlines()]
    events = _blocked_events(lines)
    assert len(events) == len(refused)  # each refusal logged exactly once
    assert all(set(event) == LOG_FIELDS for event in events)
    by_place = Counter(f"[{e['host']}]:{e['port']}" if ":" in e["host"] else f"{e['host']}:{e['port'] or ''}"
                       for e in events)
    assert steps["counts"]["counts"] == dict(by_place)  # counted as logged
    assert {e["kind"] for e in events} == {"socket.connect", "socket.getaddrinfo", "socket.gethostbyname",
                                           "socket.sendto"}
    assert by_place["exfil.example:443"] == 1 and by_place[f"127.0.0.1:{udp.port}"] == 1
    assert [line["event"] for line in lines].count("egress.guard") == 1
    assert "secret" not in json.dumps(lines)
