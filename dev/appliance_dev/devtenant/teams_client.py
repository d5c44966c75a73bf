"""`DevTeamsClient`: talk to the Aid as a dev-tenant user would in Teams (demo, `appliance chat`, tests).

It drives the dev tenant's Teams emulator over HTTPS: `send` makes the dev tenant sign and POST a
Teams activity to the bot; `events` and `wait_for_reply` read what the bot sent back through the
Bot Connector (messages, typing, cards updated in place).
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Sent:
    """What the bot endpoint answered to one message, and where the conversation is."""

    status: int
    conversation: str
    activity: str


def card_of(event: dict[str, Any]) -> dict[str, Any] | None:
    """The Adaptive Card in a bot event, or None."""
    for attachment in event.get("activity", {}).get("attachments") or []:
        if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
            content: dict[str, Any] = attachment["content"]
            return content
    return None


def card_text(card: dict[str, Any]) -> list[str]:
    """The readable lines of an Adaptive Card (text blocks and facts)."""
    lines: list[str] = []
    for block in card.get("body", []):
        if block.get("type") == "TextBlock":
            lines.append(str(block.get("text", "")))
        elif block.get("type") == "FactSet":
            lines += [f"{fact['title']}: {fact['value']}" for fact in block.get("facts", [])]
    return lines


def button_data(card: dict[str, Any], title: str) -> dict[str, Any] | None:
    """The data an Action.Submit button with this title carries (what pressing it sends)."""
    for action in card.get("actions", []):
        if action.get("title") == title:
            data: dict[str, Any] = action.get("data", {})
            return data
    return None


class DevTeamsClient:
    """A Teams user's view of the Aid, through the dev tenant's admin API."""

    def __init__(self, base_url: str, ca_cert: str, *, timeout: float = 30.0) -> None:
        self._http = httpx.Client(base_url=base_url, verify=ssl.create_default_context(cafile=ca_cert), timeout=timeout)

    def send(self, upn: str, text: str | None = None, value: dict[str, Any] | None = None) -> Sent:
        """`upn` writes `text` (or presses a button carrying `value`) in their 1:1 chat with the Aid."""
        response = self._http.post("/_admin/teams/send", json={"from": upn, "text": text, "value": value})
        response.raise_for_status()
        body = response.json()
        return Sent(int(body["status"]), str(body["conversation"]), str(body["activity"]))

    def conversation_of(self, upn: str) -> str:
        """The id of `upn`'s 1:1 chat with the Aid."""
        response = self._http.get(f"/_admin/teams/users/{upn}/conversation")
        response.raise_for_status()
        return str(response.json()["conversation"])

    def ask(self, upn: str, text: str | None = None, value: dict[str, Any] | None = None,
            timeout: float = 90.0) -> tuple[Sent, list[dict[str, Any]]]:
        """Send, then wait for the Aid's answer; returns what the endpoint said and the new events."""
        conversation = self.conversation_of(upn)
        after = self.last_seq(conversation)
        sent = self.send(upn, text, value)
        if sent.status != 202:
            return sent, []
        return sent, self.wait_for_reply(conversation, after, timeout)

    def events(self, conversation: str, after: int = 0) -> list[dict[str, Any]]:
        """The bot's events in a conversation after sequence number `after`."""
        response = self._http.get(f"/_admin/teams/conversations/{conversation}/activities", params={"after": after})
        response.raise_for_status()
        events: list[dict[str, Any]] = response.json()["activities"]
        return events

    def wait_for(
        self, conversation: str, after: int, done: Callable[[list[dict[str, Any]]], bool], timeout: float = 60.0
    ) -> list[dict[str, Any]]:
        """Poll until `done(events after `after`)` holds; returns those events (TimeoutError otherwise)."""
        deadline = time.monotonic() + timeout
        while True:
            events = self.events(conversation, after)
            if done(events):
                return events
            if time.monotonic() > deadline:
                raise TimeoutError(f"no complete answer from the Aid within {timeout:.0f} s; got {events!r}")
            time.sleep(0.1)

    def wait_for_reply(
        self, conversation: str, after: int, timeout: float = 60.0, quiet: float = 0.8
    ) -> list[dict[str, Any]]:
        """Wait until the bot sent a message (text or card) after `after` and then nothing more for `quiet`
        seconds (a turn may send several messages); typing alone does not count."""
        deadline = time.monotonic() + timeout
        events = self.wait_for(conversation, after, lambda found: any(e["event"] == "message" for e in found), timeout)
        while True:
            time.sleep(quiet)
            newer = self.events(conversation, after)
            if len(newer) == len(events):
                return newer
            if time.monotonic() > deadline:
                raise TimeoutError(f"the Aid kept sending for more than {timeout:.0f} s; got {newer!r}")
            events = newer

    def last_seq(self, conversation: str) -> int:
        """The newest sequence number in a conversation (0 if none)."""
        events = self.events(conversation)
        return int(events[-1]["seq"]) if events else 0

    def close(self) -> None:
        """Close the HTTP client."""
        self._http.close()
