"""Run in a child process by test_guard.py: install the socket guard (audit hooks cannot be removed, so
never in the test process itself), try what the parent asks, print one JSON line per step.

argv[1] is a JSON object: log_dir, ca, blocked_port (a TCP listener of the parent's, not allowed),
udp_port (a UDP socket of the parent's, not allowed), tls_port (the parent's HTTPS server, mapped for
graph.microsoft.com and allowed as https://localhost:<tls_port>).
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from appliance import ops_log
from appliance.egress import Allowlist, EgressBlocked, blocked_counts
from appliance.egress.httpx_transport import GuardedTransport
from appliance.egress.socket_guard import install


def emit(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


def outcome(attempt: Callable[[], Any]) -> str:
    """'blocked' (EgressBlocked), 'ok', or the other exception's type name."""
    try:
        attempt()
    except EgressBlocked:
        return "blocked"
    except Exception as exc:
        return type(exc).__name__
    return "ok"


def https_get(sock: socket.socket, tls: ssl.SSLContext, name: str) -> dict[str, Any]:
    """GET /whoami over `sock` with TLS for `name`; the server's JSON answer."""
    with tls.wrap_socket(sock, server_hostname=name) as wrapped:
        wrapped.sendall(f"GET /whoami HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := wrapped.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return {"status": int(head.split()[1]), **json.loads(body)}


def main() -> None:
    cfg = json.loads(sys.argv[1])
    ops_log.configure(Path(cfg["log_dir"]), b"test-salt", to_stderr=False)
    blocked, udp, tls_port = int(cfg["blocked_port"]), int(cfg["udp_port"]), int(cfg["tls_port"])
    allow = Allowlist(["https://graph.microsoft.com", f"https://localhost:{tls_port}"])
    host_map = {"graph.microsoft.com": ("127.0.0.1", tls_port)}
    guard = install(allow, host_map, listen_hosts=["appliance.internal"])
    emit(step="install_again_same", result=install(allow, host_map, listen_hosts=["appliance.internal"]) is guard)
    other = _raised(lambda: install(Allowlist([]), host_map))
    emit(step="install_again_other", result=type(other).__name__, hint=bool(getattr(other, "hint", "")))

    # The appliance's own listening socket: bind, listen and accept are never judged.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(10)
    emit(step="listening", port=server.getsockname()[1])
    peer, _ = server.accept()  # the parent connects from outside and sends b"ping"
    emit(step="accepted", data=peer.recv(16).decode())
    peer.close()
    server.close()
    emit(step="bind_localhost_name", result=outcome(lambda: socket.getaddrinfo("localhost", 0)))
    emit(step="listen_host_resolvable", result=guard.allows_lookup("appliance.internal"),
         connectable=guard.allows_address(socket.AF_INET, ("appliance.internal", 443)))

    # Refused: nothing of these may reach the parent's listener or UDP socket.
    emit(step="create_connection", result=outcome(lambda: socket.create_connection(("127.0.0.1", blocked), 2)))
    raw = socket.socket()
    emit(step="connect_ip_literal", result=outcome(lambda: raw.connect(("127.0.0.1", blocked))))
    emit(step="connect_ex", result=outcome(lambda: raw.connect_ex(("127.0.0.1", blocked))))
    raw.close()
    emit(step="localhost_other_port", result=outcome(lambda: socket.create_connection(("localhost", blocked), 2)))
    emit(step="lookup_unlisted_name", result=outcome(lambda: socket.getaddrinfo("exfil.example", 443)))
    emit(step="gethostbyname_unlisted", result=outcome(lambda: socket.gethostbyname("exfil.example")))
    datagram = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    emit(step="udp_sendto", result=outcome(lambda: datagram.sendto(b"leak", ("127.0.0.1", udp))))
    datagram.close()
    if socket.has_ipv6:
        six = socket.socket(socket.AF_INET6)
        emit(step="v4_mapped_v6", result=outcome(lambda: six.connect(("::ffff:127.0.0.1", blocked))))
        six.close()

    async def open_blocked() -> None:
        await asyncio.open_connection("127.0.0.1", blocked)

    emit(step="asyncio_open_connection", result=outcome(lambda: asyncio.run(open_blocked())))
    unix_a, unix_b = socket.socketpair()
    emit(step="af_unix", result="ok")  # socketpair + loop self-pipes keep working
    unix_a.close()
    unix_b.close()

    # Allowed: the mapped dev address, a name that resolved to an allowed (address, port), httpx on top.
    tls = ssl.create_default_context(cafile=cfg["ca"])
    mapped = https_get(socket.create_connection(("127.0.0.1", tls_port), 5), tls, "graph.microsoft.com")
    emit(step="mapped_raw_socket", **mapped)
    by_name = https_get(socket.create_connection(("localhost", tls_port), 5), tls, "localhost")
    emit(step="allowed_name_resolved", **by_name)
    client = httpx.Client(transport=GuardedTransport(allow, host_map=host_map, verify=tls), timeout=5)
    response = client.get("https://graph.microsoft.com/whoami?q=secret")
    emit(step="httpx_under_guard", status=response.status_code, **response.json())
    client.close()
    emit(step="counts", counts=blocked_counts())


def _raised(attempt: Callable[[], Any]) -> BaseException | None:
    try:
        attempt()
    except BaseException as exc:
        return exc
    return None


if __name__ == "__main__":
    main()
