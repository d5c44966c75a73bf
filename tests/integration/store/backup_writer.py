"""A second process that writes the store as `serve` would (one audit record per transaction) until its
stop file appears; its ready file appears once it has committed READY_AFTER records; prints how many it
committed. Used by test_backup.py for the concurrent-write load."""

from __future__ import annotations

import sys
from pathlib import Path

from appliance.config import load_settings
from appliance.store import TenantStore, audit_records

READY_AFTER = 20  # commits before the ready file appears: the backups start while records are landing


def main(home: str, ready: str, stop: str) -> None:
    written = 0
    with TenantStore.open(load_settings(Path(home))) as store:
        while not Path(stop).exists():
            store.run(audit_records.append_record, {"ToolName": "m365_user_get", "Outcome": "Success",
                                                    "Detail": f"load {written}"})
            written += 1
            if written == READY_AFTER:
                Path(ready).write_text("ready", encoding="utf-8")
    print(written, flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
