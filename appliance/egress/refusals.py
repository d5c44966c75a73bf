"""Every egress refusal, counted and logged in one place (thread-safe, stdlib + ops_log only).

`Allowlist.check_destination` (httpx, requests, aiohttp) and the socket guard call `record_refusal`;
nothing else should. The log line is `egress.blocked` with `host`, `port` and `kind` only: never a
path, a query or anything else of the URL. Counts are per process and start at zero.
"""

from __future__ import annotations

import threading
from collections import Counter

from appliance import ops_log

_lock = threading.Lock()
_counts: Counter[tuple[str, int | None]] = Counter()
_busy = threading.local()


def record_refusal(host: str, port: int | None, kind: str) -> None:
    """Count one refused egress attempt and log it once as `egress.blocked` (host, port, kind).

    Re-entrant: if logging itself triggers a refusal (a log handler that opens a socket under the
    socket guard), that refusal is counted but not logged again, so it cannot recurse.
    """
    with _lock:
        _counts[(host, port)] += 1
    if getattr(_busy, "on", False):
        return
    _busy.on = True
    try:
        ops_log.event("egress.blocked", host=host, port=port, kind=kind)
    except Exception:  # a broken log handler must not turn a refusal into a different error
        pass
    finally:
        _busy.on = False


def blocked_count(host: str | None = None) -> int:
    """Refusals so far in this process: all of them, or those to `host` (canonical form, any port)."""
    with _lock:
        return sum(n for (seen, _), n in _counts.items() if host is None or seen == host)


def blocked_counts() -> dict[str, int]:
    """Refusals so far, by `host:port` (`[v6]:port` for IPv6)."""
    with _lock:
        items = list(_counts.items())
    return {_label(host, port): n for (host, port), n in sorted(items, key=lambda item: str(item[0]))}


def reset_counts() -> None:
    """Forget the counts (tests; a long-running process keeps them)."""
    with _lock:
        _counts.clear()


def _label(host: str, port: int | None) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{port if port is not None else ''}"
