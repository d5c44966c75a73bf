"""A local fake of the Anthropic Messages API and the OpenAI Chat Completions API (also what llama.cpp
server and vLLM speak), on 127.0.0.1, over real TLS (the dev tenant's CA) or plain http.

It records every request exactly as it arrived (path, headers, raw body) and answers from a script,
so tests drive the REAL SDKs and assert on what left the appliance. Never the internet.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from appliance_dev.devtenant.certs import ensure_keys


@dataclass
class Received:
    """One request as the fake saw it."""

    method: str
    path: str
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> dict[str, Any]:
        """The JSON body."""
        parsed: dict[str, Any] = json.loads(self.raw)
        return parsed


@dataclass
class Reply:
    """One scripted answer."""

    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


class FakeLLM:
    """The fake provider. `script(...)` queues answers; `received` lists what arrived."""

    def __init__(self, state_dir: Path, *, tls: bool = True) -> None:
        self.tls = tls
        self.keys = ensure_keys(state_dir / "pki")
        self.received: list[Received] = []
        self.replies: deque[Reply] = deque()
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    @property
    def ca_bundle(self) -> Path:
        """The CA that signed the fake's certificate (its SAN holds 127.0.0.1)."""
        return self.keys.ca_cert

    @property
    def origin(self) -> str:
        """`https://127.0.0.1:<port>` (or http)."""
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def script(self, *replies: Reply) -> None:
        """Answer the next requests with these, in order (then 500 if the script runs out)."""
        self.replies.extend(replies)

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.received.append(Received(request.method, request.path, dict(request.headers), raw))
        reply = self.replies.popleft() if self.replies else Reply(500, {"error": {"type": "script_empty"}})
        return web.json_response(reply.body, status=reply.status, headers=reply.headers)

    def start(self) -> FakeLLM:
        """Serve on a thread with its own event loop (the SDKs under test are synchronous)."""
        ready = threading.Event()

        def serve() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self._start())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=serve, name="fake-llm", daemon=True)
        self._thread.start()
        if not ready.wait(30):
            raise RuntimeError("the fake LLM did not start")
        return self

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("POST", "/v1/messages", self._handle)
        app.router.add_route("POST", "/v1/chat/completions", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        tls = None
        if self.tls:
            tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls.load_cert_chain(self.keys.server_cert, self.keys.server_key)
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=tls)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def stop(self) -> None:
        """Shut down."""
        if self._loop and self._runner:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(10)


# -- provider answers ------------------------------------------------------------------------------
def anthropic_answer(
    calls: list[tuple[str, Any]], *, text: str | None = None, stop_reason: str | None = None
) -> dict[str, Any]:
    """A Messages API response with these tool_use blocks (and an optional text block)."""
    content: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    content += [
        {"type": "tool_use", "id": f"toolu_{i:02d}", "name": name, "input": arguments}
        for i, (name, arguments) in enumerate(calls)
    ]
    return {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-fake-1",
        "content": content,
        "stop_reason": stop_reason or ("tool_use" if calls else "end_turn"),
        "stop_sequence": None,
        "usage": {"input_tokens": 321, "output_tokens": 23},
    }


def openai_answer(
    calls: list[tuple[str, Any]], *, content: str | None = None, finish_reason: str | None = None
) -> dict[str, Any]:
    """A Chat Completions response with these function tool calls (arguments sent as JSON text)."""
    tool_calls = [
        {
            "id": f"call_{i}",
            "type": "function",
            "function": {"name": name, "arguments": args if isinstance(args, str) else json.dumps(args)},
        }
        for i, (name, args) in enumerate(calls)
    ]
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-fake-1",
        "choices": [
            {"index": 0, "message": message, "finish_reason": finish_reason or ("tool_calls" if calls else "stop")}
        ],
        "usage": {"prompt_tokens": 321, "completion_tokens": 23, "total_tokens": 344},
    }


def server_answer(content: str, *, finish_reason: str = "stop") -> dict[str, Any]:
    """A local-server (llama.cpp / vLLM) answer: the constrained JSON as message content."""
    return openai_answer([], content=content, finish_reason=finish_reason) | {"model": "smollm2-served"}
