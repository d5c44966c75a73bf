"""Conversation turns: bounded per conversation, only the two roles, text cut at a maximum."""

from __future__ import annotations

import pytest

from appliance.store import conversations
from appliance.store.connection import Connection
from appliance.store.errors import StoreError
from appliance.types import ContextMessage


def test_turns_come_back_oldest_first_per_conversation(db: Connection) -> None:
    conversations.append_turn(db, "c1", "user", "who is lee?")
    conversations.append_turn(db, "c2", "user", "other conversation")
    conversations.append_turn(db, "c1", "tool", "m365_user_get -> found 1 user")
    turns = conversations.recent_turns(db, "c1")
    assert [(t.role, t.text) for t in turns] == [("user", "who is lee?"), ("tool", "m365_user_get -> found 1 user")]
    assert turns[0].created_at <= turns[1].created_at
    assert conversations.context_messages(db, "c1", limit=1) == [
        ContextMessage(role="tool", text="m365_user_get -> found 1 user")
    ]


def test_each_conversation_keeps_only_its_newest_turns(db: Connection) -> None:
    for i in range(12):
        conversations.append_turn(db, "c1", "user", f"message {i}", keep_last=5)
    conversations.append_turn(db, "c2", "user", "untouched", keep_last=5)
    kept = [t.text for t in conversations.recent_turns(db, "c1", limit=100)]
    assert kept == [f"message {i}" for i in range(7, 12)]
    assert len(conversations.recent_turns(db, "c2")) == 1


def test_long_text_is_cut_and_unknown_roles_are_refused(db: Connection) -> None:
    conversations.append_turn(db, "c1", "user", "x" * (conversations.MAX_TURN_CHARS + 500))
    assert len(conversations.recent_turns(db, "c1")[0].text) == conversations.MAX_TURN_CHARS
    with pytest.raises(StoreError, match="role"):
        conversations.append_turn(db, "c1", "assistant", "I am the model")


def test_forget_conversation_removes_only_that_conversation(db: Connection) -> None:
    conversations.append_turn(db, "c1", "user", "a")
    conversations.append_turn(db, "c1", "user", "b")
    conversations.append_turn(db, "c2", "user", "c")
    assert conversations.forget_conversation(db, "c1") == 2
    assert [t.text for t in conversations.iter_turns(db)] == ["c"]
