"""Activities already handled (issue 15, item 2): each key is claimed once, across a restart of the
store, kept longer than any accepted token lives, and swept so the table stays bounded."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from appliance.config import StoreSettings
from appliance.store import handled_activities, retention
from appliance.store.connection import Connection, open_encrypted
from appliance.store.migrations import migrate
from appliance.teams.auth import CLOCK_SKEW_SECONDS, MAX_TOKEN_SECONDS

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def test_an_activity_is_claimed_once(db: Connection) -> None:
    key = handled_activities.activity_key("a:1conv", "1700000000001")
    assert handled_activities.claim(db, key, NOW) is True
    assert handled_activities.claim(db, key, NOW + timedelta(minutes=5)) is False
    assert handled_activities.claim(db, handled_activities.activity_key("a:1other", "1700000000001"), NOW)


def test_a_claim_survives_a_restart(tmp_path: Path) -> None:
    key, path, secret = handled_activities.activity_key("a:1conv", "7"), tmp_path / "s.db", os.urandom(32)
    first = open_encrypted(path, secret, "test key")
    migrate(first)
    assert handled_activities.claim(first, key, NOW)
    first.close()
    again = open_encrypted(path, secret, "test key")
    assert handled_activities.claim(again, key, NOW + timedelta(hours=1)) is False
    again.close()


def test_keys_outlive_every_token_the_edge_accepts() -> None:
    assert timedelta(seconds=MAX_TOKEN_SECONDS + CLOCK_SKEW_SECONDS) < handled_activities.KEEP


def test_old_keys_are_swept_by_claims_and_by_retention(db: Connection) -> None:
    for n in range(50):
        handled_activities.claim(db, handled_activities.activity_key("c", str(n)), NOW)
    later = NOW + handled_activities.KEEP + timedelta(minutes=1)
    handled_activities.claim(db, handled_activities.activity_key("c", "new"), later)
    assert handled_activities.count(db) == 51 - handled_activities.SWEEP_PER_CLAIM
    retention.purge(db, StoreSettings(), later)
    assert handled_activities.count(db) == 1
    # a key inside the window is never swept: its redelivery is still recognised
    assert handled_activities.claim(db, handled_activities.activity_key("c", "new"), later) is False
