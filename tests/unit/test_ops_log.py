"""The ops log's scrubber: every identifier kind is pseudonymised, safe fields pass only as plain tokens,
everything else is dropped and counted, and a last pass removes addresses, tokens and keys."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from appliance import ops_log

SALT = b"tenant-salt-for-tests"
# one realistic value of every identifier kind the appliance logs
IDENTIFIERS = {
    "conversation": "a:1Xy-TeamsConversationId_9f8e7d6c5b4a",
    "requester": "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
    "action": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
    "client_request_id": "b3c5f1d2-1234-4e5f-8a9b-0c1d2e3f4a5b",
    "activity": "1:1XyZ_activity-0042",
    "tenant": "d6d49420-f39b-4df7-a1dc-d59a935871db",
    "person": "sarah.lin@contoso.com",
}


@pytest.fixture(autouse=True)
def salted() -> Iterator[None]:
    before = ops_log._salt
    ops_log._salt = SALT
    yield
    ops_log._salt = before


def _line(name: str = "turn.proposed", **fields: Any) -> dict[str, Any]:
    record = logging.LogRecord(ops_log.LOGGER_NAME, logging.INFO, __file__, 1, name, None, None)
    record.ops_fields = fields
    text = ops_log.JsonLineFormatter().format(record)
    parsed: dict[str, Any] = json.loads(text)
    return parsed


def _expected(value: str, salt: bytes = SALT) -> str:
    return hmac.new(salt, value.encode(), hashlib.sha256).hexdigest()[:16]


def test_the_identifier_kinds_under_test_are_exactly_the_ones_the_log_knows() -> None:
    assert set(IDENTIFIERS) == ops_log.ID_FIELDS


@pytest.mark.parametrize("kind", sorted(IDENTIFIERS))
def test_every_identifier_kind_is_replaced_by_its_tenant_pseudonym(kind: str) -> None:
    value = IDENTIFIERS[kind]
    line = _line(**{kind: value})
    assert line[kind] == _expected(value) and len(line[kind]) == 16
    assert value not in json.dumps(line)
    assert "dropped" not in line


def test_pseudonyms_are_stable_in_a_tenant_and_differ_between_tenants() -> None:
    first = _line(conversation="conv-1")["conversation"]
    assert _line(conversation="conv-1")["conversation"] == first
    assert _line(conversation="conv-2")["conversation"] != first
    ops_log._salt = b"another tenant"
    assert _line(conversation="conv-1")["conversation"] == _expected("conv-1", b"another tenant") != first


def test_an_identifier_that_is_not_text_is_hashed_as_text_and_none_is_not_logged() -> None:
    assert _line(action=12345)["action"] == _expected("12345")
    line = _line(action=None)
    assert "action" not in line and line["dropped"] == 1


def test_safe_fields_pass_as_plain_tokens_numbers_and_booleans() -> None:
    line = _line(tool="m365_user_get", ms=412, ready=True, status=None, route="/api/messages",
                 host="graph.microsoft.com", at="2026-05-21T10:14:05Z", ratio=0.5)
    assert line["tool"] == "m365_user_get" and line["ms"] == 412 and line["ready"] is True and line["status"] is None
    assert line["route"] == "/api/messages" and line["host"] == "graph.microsoft.com"
    assert line["at"] == "2026-05-21T10:14:05Z"
    assert "ratio" not in line and line["dropped"] == 1


@pytest.mark.parametrize(
    "value",
    ["sarah.lin@contoso.com", "Sarah Lin", "a." * 33, "reset the password of sarah", "x\ny", "x\n", "tool;rm -rf", "ü"],
)
def test_a_safe_field_holding_text_is_scrubbed(value: str) -> None:
    assert _line(reason=value)["reason"] == "[scrubbed]"


def test_a_token_of_exactly_64_characters_still_passes_and_65_do_not() -> None:
    assert _line(reason="ab." * 21 + "c")["reason"] == "ab." * 21 + "c"
    assert _line(reason="ab." * 21 + "cd")["reason"] == "[scrubbed]"


def test_unknown_fields_are_dropped_and_counted_never_shown() -> None:
    line = _line(tool="reply", text="my password is Hunter2", arguments={"user": "x@y.com"}, upn="sarah@contoso.com")
    assert line["dropped"] == 3 and line["tool"] == "reply"
    assert not {"text", "arguments", "upn"} & set(line)
    assert "Hunter2" not in json.dumps(line) and "contoso" not in json.dumps(line)


@pytest.mark.parametrize(
    ("text", "gone", "marker"),
    [
        ("mail sarah.lin@contoso.com now", "sarah.lin@contoso.com", "[email]"),
        ("o'brien+tag@sub.contoso.co.uk wrote", "o'brien+tag@sub.contoso.co.uk", "[email]"),
        ("token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl here", "eyJhbGciOiJSUzI1NiJ9", "[jwt]"),
        ("Authorization: Bearer abc.def-123_456~+/=", "abc.def-123_456", "Bearer [token]"),
        ("authorization: bearer   lowercase-token", "lowercase-token", "Bearer [token]"),
        ("key " + "A1b2" * 10 + "== end", "A1b2" * 10, "[secret]"),
    ],
)
def test_the_last_pass_removes_addresses_tokens_and_keys(text: str, gone: str, marker: str) -> None:
    cleaned = ops_log.scrub(text)
    assert gone not in cleaned and marker in cleaned


def test_short_ordinary_words_survive_the_last_pass() -> None:
    assert ops_log.scrub("status 429 after 3 attempts on graph.microsoft.com") == (
        "status 429 after 3 attempts on graph.microsoft.com"
    )
    assert ops_log.scrub("x" * 39) == "x" * 39


def test_other_libraries_keep_only_name_level_a_scrubbed_message_and_the_exception_type() -> None:
    try:
        raise ValueError("sarah.lin@contoso.com is secret")
    except ValueError:
        record = logging.LogRecord("aiohttp.access", logging.WARNING, __file__, 1, "GET %s from %s",
                                   ("/x", "sarah.lin@contoso.com"), sys.exc_info())
    line = json.loads(ops_log.JsonLineFormatter().format(record))
    assert line["logger"] == "aiohttp.access" and line["level"] == "warning"
    assert line["message"] == "GET /x from [email]" and line["exception"] == "ValueError"
    assert "secret" not in json.dumps(line) and "event" not in line


def test_a_long_foreign_message_is_cut_to_500_characters() -> None:
    record = logging.LogRecord("msal", logging.WARNING, __file__, 1, "w " * 400, None, None)
    assert len(json.loads(ops_log.JsonLineFormatter().format(record))["message"]) == 500


def test_signed_fields_pass_only_in_their_exact_shape() -> None:
    head, signer = "ab" * 32, base64.b64encode(os.urandom(32)).decode()
    signature = base64.b64encode(os.urandom(64)).decode()
    line = _line("audit.checkpoint", head=head, signer=signer, signature=signature, count=3)
    assert (line["head"], line["signer"], line["signature"], line["count"]) == (head, signer, signature, 3)
    for field, bad in [("head", "AB" * 32), ("head", head + "\n"), ("head", "sarah.lin@contoso.com"),
                       ("signer", signer[:-1]), ("signature", signature + "A"), ("signature", 42)]:
        assert _line("audit.checkpoint", **{field: bad})[field] == "[scrubbed]", (field, bad)


def test_the_rest_of_a_line_with_signed_fields_is_still_scrubbed() -> None:
    line = _line("audit.checkpoint", head="ab" * 32, reason="a" * 40 + "b" * 20)
    assert line["head"] == "ab" * 32 and line["reason"] == "[secret]"


def test_every_line_has_a_utc_time_a_level_and_the_event_name() -> None:
    line = _line("service.started", count=3)
    assert line["event"] == "service.started" and line["level"] == "info"
    assert line["ts"].endswith("Z") and len(line["ts"]) == len("2026-05-21T10:14:05.123Z")


def test_configure_writes_a_0600_file_replaces_its_own_handlers_and_keeps_others(tmp_path: Path) -> None:
    root = logging.getLogger()
    foreign = logging.NullHandler()
    root.addHandler(foreign)
    try:
        path = ops_log.configure(tmp_path / "logs", b"first", to_stderr=False)
        path = ops_log.configure(tmp_path / "logs", SALT, to_stderr=False)
        assert path == tmp_path / "logs" / "ops.jsonl" and path.stat().st_mode & 0o777 == 0o600
        assert (tmp_path / "logs").stat().st_mode & 0o777 == 0o700
        ours = [h for h in root.handlers if getattr(h, "_aidizen", False)]
        assert len(ours) == 1 and foreign in root.handlers
        ops_log.event("action.confirmed", action="a-1", tool="m365_user_disable", text="leak")
        logging.getLogger("botbuilder").info("below warning: not written")
        logging.getLogger("botbuilder").warning("written, about %s", "sarah.lin@contoso.com")
        for handler in ours:
            handler.flush()
        lines = [json.loads(text) for text in path.read_text().splitlines()]
        assert [line.get("event", line.get("logger")) for line in lines] == ["action.confirmed", "botbuilder"]
        assert lines[0]["action"] == _expected("a-1") and lines[0]["dropped"] == 1
        assert lines[1]["message"] == "written, about [email]"
    finally:
        root.removeHandler(foreign)
        for handler in [h for h in root.handlers if getattr(h, "_aidizen", False)]:
            root.removeHandler(handler)
            handler.close()


def _raw(record: logging.LogRecord) -> str:
    return ops_log.JsonLineFormatter().format(record)


def test_the_line_is_key_sorted_unescaped_utf_8_with_the_records_own_time() -> None:
    record = logging.LogRecord(ops_log.LOGGER_NAME, logging.INFO, __file__, 1, "turn.handled", None, None)
    record.created, record.msecs = 1_779_358_445.25, 250.0  # 2026-05-21T10:14:05.250Z
    record.ops_fields = {"tool": "reply", "kind": "text", "ms": 3}
    assert _raw(record) == ('{"event": "turn.handled", "kind": "text", "level": "info", "ms": 3, "tool": "reply", '
                            '"ts": "2026-05-21T10:14:05.250Z"}')
    foreign = logging.LogRecord("aiohttp.server", logging.ERROR, __file__, 1, "Größe überschritten", None, None)
    assert '"message": "Größe überschritten"' in _raw(foreign)  # not \\u-escaped


def test_a_line_with_signed_fields_is_still_key_sorted_and_unescaped() -> None:
    record = logging.LogRecord(ops_log.LOGGER_NAME, logging.INFO, __file__, 1, "audit.checkpoint", None, None)
    record.created, record.msecs = 1_779_358_445.0, 0.0
    record.ops_fields = {"head": "ab" * 32, "count": 3, "kind": "ü"}
    assert _raw(record) == ('{"count": 3, "event": "audit.checkpoint", "head": "' + "ab" * 32 + '", "kind": '
                            '"[scrubbed]", "level": "info", "ts": "2026-05-21T10:14:05.000Z"}')


def test_another_loggers_record_is_foreign_even_if_it_carries_fields() -> None:
    record = logging.LogRecord("botbuilder", logging.WARNING, __file__, 1, "sent to %s", ("x@contoso.com",), None)
    record.ops_fields = {"tool": "reply", "conversation": "c-1"}
    line = json.loads(_raw(record))
    assert line["logger"] == "botbuilder" and line["message"] == "sent to [email]"
    assert "event" not in line and "tool" not in line and "conversation" not in line
    ours = logging.LogRecord(ops_log.LOGGER_NAME, logging.INFO, __file__, 1, "x", None, None)
    ours.ops_fields = "not a dict"
    assert json.loads(_raw(ours))["logger"] == ops_log.LOGGER_NAME  # no fields to clean: shown as a message


def test_configure_makes_missing_parents_and_rotates_at_20_mib_keeping_5(tmp_path: Path) -> None:
    import logging.handlers

    root = logging.getLogger()
    try:
        path = ops_log.configure(tmp_path / "a" / "b" / "logs", SALT, to_stderr=True)
        ours = [h for h in root.handlers if getattr(h, "_aidizen", False)]
        files = [h for h in ours if isinstance(h, logging.handlers.RotatingFileHandler)]
        streams = [h for h in ours if type(h) is logging.StreamHandler]
        assert len(files) == 1 and (files[0].maxBytes, files[0].backupCount) == (20 << 20, 5)
        assert Path(files[0].baseFilename) == path
        assert len(streams) == 1 and streams[0].stream is sys.stderr
        assert all(isinstance(h.formatter, ops_log.JsonLineFormatter) for h in ours)
        assert root.level == logging.WARNING and logging.getLogger(ops_log.LOGGER_NAME).level == logging.INFO
        assert ops_log.hashed("x") == _expected("x")  # the salt given is the one used
    finally:
        for handler in [h for h in root.handlers if getattr(h, "_aidizen", False)]:
            root.removeHandler(handler)
            handler.close()


def test_configure_also_writes_to_stderr_unless_told_not_to(tmp_path: Path) -> None:
    root = logging.getLogger()
    try:
        ops_log.configure(tmp_path / "logs", SALT)  # as serve calls it: a log collector reads stderr
        streams = [h.stream for h in root.handlers
                   if getattr(h, "_aidizen", False) and type(h) is logging.StreamHandler]
        assert streams == [sys.stderr]
        ops_log.configure(tmp_path / "logs", SALT, to_stderr=False)
        assert [h for h in root.handlers if getattr(h, "_aidizen", False) and type(h) is logging.StreamHandler] == []
    finally:
        for handler in [h for h in root.handlers if getattr(h, "_aidizen", False)]:
            root.removeHandler(handler)
            handler.close()
