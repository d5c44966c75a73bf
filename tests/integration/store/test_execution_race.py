"""A real race on CONFIRMED -> EXECUTING: two processes, each with its own connection to the same SQLCipher
file and its own Executor, are released at the same instant to execute the same confirmed action. The
compare-and-set transition must let exactly one of them call Graph; the other must not (it never learns
the outcome, so it must never run the write)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

from appliance.config import Settings
from appliance.gate import action_hash
from appliance.store import TenantStore, audit_records, pending_actions
from appliance.store.clock import now

REPO_ROOT = Path(__file__).resolve().parents[3]
ARGS = {"user": "sarah.lin@contoso.com", "sku": "ENTERPRISEPACK"}
SUMMARY = "Assign ENTERPRISEPACK to sarah.lin@contoso.com"

RACER = textwrap.dedent(
    """
    import asyncio, os, sys, time
    from datetime import UTC, datetime
    from pathlib import Path
    from appliance.catalog import DEFAULT_CATALOG
    from appliance.orchestrator import AidPolicy
    from appliance.orchestrator.execution import Executor
    from appliance.orchestrator.shared import CardUpdates
    from appliance.store import TenantStore
    from appliance.store.keys import FileKeyProvider
    from appliance.store.ledger import StoreLedger
    from appliance_dev.testing.fake_graph import FakeDirectory, FakeTools

    home, key, go, runs = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])

    class GraphWrite(FakeTools):
        async def run(self, tool, arguments, client_request_id):  # every Graph call leaves a line in `runs`
            with runs.open("a") as out:
                out.write(f"{os.getpid()} {client_request_id}\\n")
            await asyncio.sleep(0.3)  # a write in flight: the other racer is deciding meanwhile
            return await super().run(tool, arguments, client_request_id)

    async def main():
        store = TenantStore(home / "appliance.db", FileKeyProvider(key, home))
        ledger = StoreLedger(store)
        tools = GraphWrite()
        executor = Executor(ledger=ledger, tools=tools, directory=FakeDirectory(tools=tools),
                            policy=AidPolicy(aid_upn="aid@contoso.com"), clock=lambda: datetime.now(UTC),
                            cards=CardUpdates(DEFAULT_CATALOG))
        action = await ledger.get_action("race")
        assert action is not None and action.state == "CONFIRMED", action
        print("ready", flush=True)
        deadline = time.monotonic() + 60
        while not go.exists():  # both racers spin on the same file, so they start together
            if time.monotonic() > deadline:
                raise TimeoutError("never released")
        await executor.execute(action, None)
        print("ran" if tools.runs else "skipped", flush=True)
        store.close()

    asyncio.run(main())
    """
)


def _confirmed_action(store: TenantStore) -> None:
    digest = action_hash("m365_license_assign", ARGS, SUMMARY)
    store.run(pending_actions.create_action, action_id="race", conversation_ref="teams://msg/c",
              requester_id="doug-oid", tool="m365_license_assign", arguments=ARGS, summary=SUMMARY,
              action_hash=digest, expires_at=now() + timedelta(minutes=10),
              requester_upn="doug@contoso.com")
    assert store.run(pending_actions.confirm, "race", requester_id="doug-oid", action_hash=digest)


def test_two_processes_executing_one_confirmed_action_call_graph_once(
    store: TenantStore, settings: Settings, key_file: Path, tmp_path: Path
) -> None:
    _confirmed_action(store)
    store.close()
    go, runs = tmp_path / "go", tmp_path / "graph-calls.txt"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "dev")])}
    command = [sys.executable, "-c", RACER, str(settings.home), str(key_file), str(go), str(runs)]
    racers = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)
    ]
    try:
        for racer in racers:  # both hold an open connection and the CONFIRMED action before the start
            assert racer.stdout is not None
            line = racer.stdout.readline().strip()
            assert line == "ready", f"racer did not start: {line!r} {racer.stderr.read() if racer.stderr else ''}"
        go.touch()
        outcomes = []
        for racer in racers:
            out, err = racer.communicate(timeout=60)
            assert racer.returncode == 0, err
            outcomes.append(out.strip())
    finally:
        for racer in racers:
            if racer.poll() is None:
                racer.kill()
    assert sorted(outcomes) == ["ran", "skipped"]
    calls = runs.read_text().splitlines()
    assert len(calls) == 1, f"Graph was called {len(calls)} times for one confirmed action: {calls}"
    with TenantStore.open(settings) as reopened:
        action = reopened.run(pending_actions.get_action, "race")
        assert action is not None and action.state == "DONE" and action.client_request_id == calls[0].split()[1]
        records = reopened.run(audit_records.records)
        assert [r["ClientRequestId"] for r in records] == [action.client_request_id]
        assert reopened.run(audit_records.verify).ok
