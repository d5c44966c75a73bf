"""The Aid's sign-in by authorization code + PKCE in a browser, for tenants that block the device-code flow.

msal builds the authorize URL (with a PKCE S256 challenge and a state) for the redirect URI
`http://localhost:<port>` (Entra lets public clients use any loopback port); a one-shot HTTP listener on
127.0.0.1 catches the redirect, and msal redeems the code with its verifier. The admin signs in AS THE
AID in the browser that opens (or opens the printed URL themselves, e.g. through `kubectl port-forward`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from appliance.graph.errors import GraphAuthError

DONE_PAGE = b"<html><body><p>The Aid is signed in. You can close this tab.</p></body></html>"


class _Catcher(HTTPServer):
    """Answers exactly the redirect: keeps its query parameters."""

    def __init__(self, port: int) -> None:
        self.received: dict[str, str] | None = None
        self.arrived = threading.Event()
        super().__init__(("127.0.0.1", port), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Catcher

    def do_GET(self) -> None:
        query = dict(parse_qsl(urlsplit(self.path).query))
        if "code" not in query and "error" not in query:
            self.send_error(404)
            return
        self.server.received = query
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(DONE_PAGE if "code" in query else b"<html><body><p>Sign-in failed.</p></body></html>")
        self.server.arrived.set()

    def log_message(self, format: str, *args: Any) -> None:  # the request line holds the code: never logged
        return


def sign_in_with_browser(app: Any, scopes: list[str], open_url: Callable[[str], None], *, port: int = 0,
                         timeout: float = 300.0) -> dict[str, Any]:
    """Run the flow on msal `app` (a PublicClientApplication); returns msal's token result."""
    catcher = _Catcher(port)
    thread = threading.Thread(target=catcher.serve_forever, name="sign-in-redirect", daemon=True)
    thread.start()
    try:
        redirect_uri = f"http://localhost:{catcher.server_address[1]}"
        flow = app.initiate_auth_code_flow(scopes, redirect_uri=redirect_uri)
        if "auth_uri" not in flow:
            raise GraphAuthError(f"msal could not start the browser sign-in: {flow.get('error_description')}")
        open_url(flow["auth_uri"])
        if not catcher.arrived.wait(timeout):
            raise GraphAuthError(f"no sign-in came back to {redirect_uri} within {timeout:.0f} s",
                                 hint="Open the printed URL, sign in as the Aid, and let the browser reach "
                                 "localhost (use `kubectl port-forward` when the appliance runs in a pod).")
        received = catcher.received or {}
        if "error" in received:
            raise GraphAuthError(f"Entra refused the sign-in: {received.get('error_description', received['error'])}")
        try:
            result: dict[str, Any] = app.acquire_token_by_auth_code_flow(flow, received, scopes=scopes)
        except (ValueError, RuntimeError) as exc:  # msal: state or nonce mismatch (not this sign-in's answer)
            raise GraphAuthError(f"the browser sign-in's answer was not for this request: {exc}") from None
        return result
    finally:
        catcher.shutdown()
        catcher.server_close()
