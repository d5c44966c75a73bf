"""Operator actions leave hash-chained audit records (`audit/closures.operator_record`): key rotation,
export, retention purge, backup, restore and offboarding are all on the same chain as the Aid's actions."""

from __future__ import annotations

import getpass
import socket
from collections.abc import Mapping
from typing import Any

from appliance.audit.closures import operator_record
from appliance.store.audit_records import append_record
from appliance.store.clock import now
from appliance.store.connection import Connection


def operator_name() -> str:
    """Who runs this command: `<OS user>@<host>` (the container's pod name in Kubernetes)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container with an arbitrary uid)
        user = "uid-unknown"
    return f"{user}@{socket.gethostname()}"


def record_operation(
    db: Connection, operation: str, detail: str, facts: Mapping[str, Any] | None = None, *,
    operator: str | None = None, outcome: str = "Success",
) -> dict[str, Any]:
    """Append the operator record of `operation` (e.g. "store.rekey"); returns it as stored."""
    record = operator_record(operation, operator=operator or operator_name(), moment=now(), detail=detail,
                             outcome=outcome, facts=facts)
    return append_record(db, record)
