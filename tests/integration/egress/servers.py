"""Real local servers for the egress tests: a TCP listener that records what reaches it, a UDP socket
that does the same, and an HTTPS server with the dev tenant's test CA that echoes what it was asked."""

from __future__ import annotations

import contextlib
import json
import select
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from appliance_dev.devtenant.certs import DevTenantKeys


class Listener:
    """A TCP socket listening on 127.0.0.1 (on no allowlist) that records connections and bytes."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.setblocking(False)
        self.port = int(self.sock.getsockname()[1])

    def seen(self, wait: float = 0.3) -> tuple[int, bytes]:
        """(connections, bytes) that arrived, waiting up to `wait` seconds for late ones."""
        connections, data = 0, b""
        deadline = time.monotonic() + wait
        while (left := deadline - time.monotonic()) > 0:
            readable, _, _ = select.select([self.sock], [], [], left)
            if not readable:
                break
            connection, _ = self.sock.accept()
            connections += 1
            connection.settimeout(0.2)
            with contextlib.suppress(OSError):
                data += connection.recv(65536)
            connection.close()
        return connections, data

    def close(self) -> None:
        self.sock.close()


class UdpSink:
    """A UDP socket on 127.0.0.1 that records datagrams."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = int(self.sock.getsockname()[1])

    def seen(self, wait: float = 0.3) -> list[bytes]:
        """Datagrams that arrived within `wait` seconds."""
        found: list[bytes] = []
        readable, _, _ = select.select([self.sock], [], [], wait)
        while readable:
            found.append(self.sock.recv(65536))
            readable, _, _ = select.select([self.sock], [], [], 0.05)
        return found

    def close(self) -> None:
        self.sock.close()


class EchoTLSServer:
    """HTTPS on 127.0.0.1 with the dev tenant's server certificate (it names login/graph/botframework/
    smba hosts, localhost and 127.0.0.1). Answers every GET with JSON: the Host header, the path and
    the TLS SNI name the client sent. `sni` lists every SNI name seen, including failed handshakes."""

    def __init__(self, keys: DevTenantKeys) -> None:
        self.sni: list[str | None] = []
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(keys.server_cert), str(keys.server_key))
        context.sni_callback = self._on_sni

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = json.dumps({"host": self.headers.get("Host"), "path": self.path,
                                   "sni": getattr(self.request, "sni_name", None)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = int(self.httpd.server_address[1])
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def _on_sni(self, connection: Any, name: str | None, context: ssl.SSLContext) -> None:
        self.sni.append(name)
        connection.sni_name = name

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def ca_context(ca: Path) -> ssl.SSLContext:
    """A client context that trusts only the test CA."""
    return ssl.create_default_context(cafile=str(ca))
