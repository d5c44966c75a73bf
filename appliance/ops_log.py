"""The operational log: structured JSON lines that never carry personal data.

`event("turn.proposed", tool="m365_user_get", ms=412, conversation=ref)` is the only way the appliance
logs. Fields are sorted into three kinds, by name:
- safe fields (tool names, states, outcomes, durations, counts, hosts, status codes) pass when their
  value is a number, a boolean or a short plain token;
- id fields (conversation, requester, action, client-request-id, ...) are replaced by an HMAC with a
  per-tenant salt: stable inside the tenant (to follow one conversation), meaningless outside it;
- signed fields (an audit checkpoint's head hash, signer key and signature) pass only in their one exact
  shape (hex or base64 of a fixed size), so no text can ride in them; they skip the last pass below,
  which would take a 64-hex hash for a key;
- every other field is dropped (and counted), so a careless call cannot leak text or arguments.
A last pass over the finished line replaces anything that still looks like an e-mail address / UPN,
a JWT, a bearer token or a key. Records from other libraries (aiohttp, botbuilder, msal) keep only
their logger name, level and a scrubbed message. Stdlib only: every room may log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import logging.handlers
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

LOGGER_NAME = "aidizen.ops"
SAFE_FIELDS = frozenset({
    "tool", "state", "outcome", "reason", "ms", "status", "count", "backend", "model", "route", "method",
    "host", "port", "tokens", "forced", "attempt", "kind", "phase", "version", "mode", "joined", "expired",
    "reconciled", "pending", "ready", "size", "limit", "channel", "scope", "error", "at",
})
ID_FIELDS = frozenset({"conversation", "requester", "action", "client_request_id", "activity", "tenant", "person"})
SIGNED_FIELDS = {
    "head": re.compile(r"[0-9a-f]{64}"),  # a sha256 (the audit chain's head)
    "signer": re.compile(r"[A-Za-z0-9+/]{43}="),  # a raw Ed25519 public key, base64
    "signature": re.compile(r"[A-Za-z0-9+/]{86}=="),  # an Ed25519 signature, base64
}
TOKEN_RE = re.compile(r"^[A-Za-z0-9_.:/-]{0,64}$")
SCRUBBERS = (
    (re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), "[email]"),
    (re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), "[jwt]"),
    (re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/=-]+"), "Bearer [token]"),
    (re.compile(r"\b[A-Za-z0-9+/_-]{40,}={0,2}"), "[secret]"),
)
_salt = b"unsalted: call ops_log.configure()"


def event(name: str, **fields: Any) -> None:
    """Log one operational event with metadata fields (see the module docstring for what survives)."""
    logging.getLogger(LOGGER_NAME).info(name, extra={"ops_fields": fields})


def hashed(value: str) -> str:
    """The tenant-local pseudonym of an id (16 hex characters of HMAC-SHA256 with the tenant's salt)."""
    return hmac.new(_salt, value.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


def scrub(text: str) -> str:
    """Replace anything that looks like an address, a token or a key."""
    for pattern, replacement in SCRUBBERS:
        text = pattern.sub(replacement, text)
    return text


def clean_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Keep safe fields, pseudonymise id fields, drop the rest (their count is kept as `dropped`)."""
    out: dict[str, Any] = {}
    dropped = 0
    for key, value in fields.items():
        if key in ID_FIELDS and value is not None:
            out[key] = hashed(str(value))
        elif key in SAFE_FIELDS:
            out[key] = _safe_value(value)
        elif key in SIGNED_FIELDS:
            out[key] = value if isinstance(value, str) and SIGNED_FIELDS[key].fullmatch(value) else "[scrubbed]"
        else:
            dropped += 1
    if dropped:
        out["dropped"] = dropped
    return out


def _safe_value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = str(value)
    return text if TOKEN_RE.fullmatch(text) and "@" not in text else "[scrubbed]"


class JsonLineFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, event, cleaned fields; scrubbed as a whole."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
        }
        fields = getattr(record, "ops_fields", None)
        signed: dict[str, Any] = {}
        if record.name == LOGGER_NAME and isinstance(fields, dict):
            line["event"] = str(record.msg)
            line.update(clean_fields(fields))
            signed = {key: line.pop(key) for key in SIGNED_FIELDS if key in line}
        else:
            line["logger"] = record.name
            line["message"] = record.getMessage()[:500]
            if record.exc_info and record.exc_info[0] is not None:
                line["exception"] = record.exc_info[0].__name__  # the type only: messages can hold data
        text = scrub(json.dumps(line, ensure_ascii=False, sort_keys=True))
        if not signed:
            return text
        return json.dumps({**json.loads(text), **signed}, ensure_ascii=False, sort_keys=True)


def configure(log_dir: Path, salt: bytes, *, to_stderr: bool = True, level: int = logging.INFO) -> Path:
    """Send the ops log to `log_dir/ops.jsonl` (mode 0600, rotated) and stderr; returns the file's path.

    `salt` is the tenant's pseudonymisation key (kept in the encrypted store). Other libraries' records
    of WARNING and above go through the same formatter.
    """
    global _salt
    _salt = salt
    log_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = log_dir / "ops.jsonl"
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    formatter = JsonLineFormatter()
    handlers: list[logging.Handler] = [logging.handlers.RotatingFileHandler(path, maxBytes=20 << 20, backupCount=5)]
    if to_stderr:
        handlers.append(logging.StreamHandler(sys.stderr))
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_aidizen", False):
            root.removeHandler(handler)
            handler.close()
    for handler in handlers:
        handler.setFormatter(formatter)
        handler._aidizen = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger(LOGGER_NAME).setLevel(level)
    return path
