"""Migrations: ordered, recorded, applied once; a newer database is refused before anything is written."""

from __future__ import annotations

import pytest

from appliance.store.connection import Connection
from appliance.store.errors import SchemaTooNewError
from appliance.store.migrations import LATEST, MIGRATIONS, current_version, migrate, split_statements

EXTRA = (LATEST + 1, "notes", "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);")


def test_a_fresh_database_gets_every_migration_recorded(db: Connection) -> None:
    assert current_version(db) == LATEST
    rows = db.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    assert [(v, n) for v, n, _ in MIGRATIONS] == rows
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"conversation_turns", "pending_actions", "audit_records", "secrets", "settings"} <= tables


def test_migrating_again_changes_nothing(db: Connection) -> None:
    before = db.execute("SELECT count(*) FROM schema_migrations").fetchone()[0]
    assert migrate(db) == LATEST
    assert db.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == before


def test_a_new_migration_is_applied_to_an_existing_store(db: Connection) -> None:
    db.execute("INSERT INTO settings (key, value) VALUES ('kept', 'yes')")
    assert migrate(db, (*MIGRATIONS, EXTRA)) == LATEST + 1
    db.execute("INSERT INTO notes (body) VALUES ('x')")
    assert db.execute("SELECT value FROM settings WHERE key = 'kept'").fetchone()[0] == "yes"


def test_a_failing_migration_leaves_the_previous_version_intact(db: Connection) -> None:
    broken = (LATEST + 1, "broken", "CREATE TABLE half (x);\nCREATE TABLE conversation_turns (x);")
    with pytest.raises(Exception, match="already exists"):
        migrate(db, (*MIGRATIONS, broken))
    assert current_version(db) == LATEST
    assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'half'").fetchone()[0] == 0


def test_a_newer_database_is_refused(db: Connection) -> None:
    migrate(db, (*MIGRATIONS, EXTRA))
    with pytest.raises(SchemaTooNewError, match=f"version {LATEST + 1}; this appliance knows versions up to {LATEST}"):
        migrate(db)


def test_migrations_must_be_numbered_in_order(db: Connection) -> None:
    with pytest.raises(ValueError, match="in order"):
        migrate(db, (EXTRA, MIGRATIONS[0]))


def test_split_statements_keeps_trigger_bodies_whole() -> None:
    sql = """
-- a comment
CREATE TABLE t (x TEXT);
CREATE TRIGGER t_no_update BEFORE UPDATE ON t
BEGIN SELECT RAISE(ABORT, 'no; really'); SELECT 1; END;
INSERT INTO t VALUES ('a;b');
"""
    statements = split_statements(sql)
    assert len(statements) == 3 and statements[1].endswith("END;") and "'a;b'" in statements[2]
    with pytest.raises(ValueError, match="incomplete"):
        split_statements("CREATE TABLE t (x")


def test_a_migration_numbered_below_the_newest_applied_one_still_runs(db: Connection) -> None:
    """Branches land out of order: a store that already has 5 still gets a 4 that lands later."""
    late = (LATEST + 1, "late", "CREATE TABLE late_notes (id INTEGER PRIMARY KEY);")
    newest = (LATEST + 2, "newest", "CREATE TABLE newest_notes (id INTEGER PRIMARY KEY);")
    assert migrate(db, (*MIGRATIONS, newest)) == LATEST + 2
    assert migrate(db, (*MIGRATIONS, late, newest)) == LATEST + 2
    db.execute("INSERT INTO late_notes DEFAULT VALUES")
    versions = [row[0] for row in db.execute("SELECT version FROM schema_migrations ORDER BY version")]
    assert versions[-2:] == [LATEST + 1, LATEST + 2]
