"""A real `appliance serve --dev` with `[mcp] enabled = true`, and Entra access tokens from the dev tenant."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

from appliance_dev.dev_stack import DevStack
from tests.conftest import SHARED_MODELS_DIR

MCP_SCOPE = "api://aidizen-mcp/Aid.Request"
DOUG, HANA, MIKE = "doug@contoso.com", "hana.berg@contoso.com", "mike.chan@contoso.com"


class McpStack:
    """The running stack, its MCP URL, and tokens as Entra would issue them to an agent's user."""

    def __init__(self, stack: DevStack, port: int) -> None:
        self.stack, self.port = stack, port
        assert stack.tenant is not None
        self.tenant = stack.tenant
        self.ca = str(stack.tenant.keys.ca_cert)
        self.url = f"https://localhost:{port}/mcp"

    def tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca)

    def token(self, upn: str, client_id: str = "11111111-aaaa-4bbb-8ccc-222222222222", scope: str = MCP_SCOPE,
              version: int = 2) -> str:
        """An access token from the dev tenant's token service (`POST /_admin/tokens`)."""
        response = httpx.post(f"{self.tenant.url}/_admin/tokens", verify=self.tls(), timeout=15.0,
                              json={"upn": upn, "client_id": client_id, "scope": scope, "version": version})
        response.raise_for_status()
        return str(response.json()["access_token"])

    def forged(self, **override: Any) -> str:
        """A token signed with the dev tenant's own key but with the given claims changed."""
        claims = jwt.decode(self.token(DOUG), options={"verify_signature": False})
        claims.update(override)
        return self.tenant.context.sign({k: v for k, v in claims.items() if v is not None})

    def first_message(self, upn: str) -> None:
        """`upn` writes to the Aid once in Teams (the Aid keeps their chat's reference for cards)."""
        assert self.stack.client is not None
        _, events = self.stack.client.ask(upn, "yes")  # a typed answer: no model turn, the chat is known
        assert events, "the Aid did not answer in Teams"


@pytest.fixture(scope="package")
def mcp_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[McpStack]:
    """One appliance for the package, MCP on its own free port."""
    home = tmp_path_factory.mktemp("mcp") / "home"
    with socket.socket() as held:  # held while the Teams port is picked, so the two never coincide
        held.bind(("127.0.0.1", 0))
        port = int(held.getsockname()[1])
        running = DevStack(home, extra_config=f"[mcp]\nenabled = true\nport = {port}\nhost = \"127.0.0.1\"\n",
                           models_dir=SHARED_MODELS_DIR).prepare()
    try:
        running.start_appliance(timeout=300)  # /readyz is 200 once MCP listens too; the model loads first
        yield McpStack(running, port)
        code = running.stop_appliance()  # SIGTERM stops the MCP endpoint, then Teams, then the store
        assert code == 0, running.log_tail()
    finally:
        running.close()
