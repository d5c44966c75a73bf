"""Kill rates per guard module from a `mutmut run` (mutants/*.meta), with every survivor and its reason.

`make mutation` runs mutmut over the guards named in pyproject.toml ([tool.mutmut] only_mutate), then
this script. A mutant counts as killed when a test failed (or timed out) on it; one no test reached
counts as a survivor. Each survivor needs a reason in tests/mutation/survivors.toml (equivalent to the
original, or accepted, and why). Exit 1 if a module is under the target or a survivor has no reason.

    python -m tests.mutation.report [--target 90] [--modules PATTERN ...] [--write docs/TESTING.md]
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import sys
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SURVIVORS = Path(__file__).with_name("survivors.toml")
BEGIN, END = "<!-- mutation-report:begin -->", "<!-- mutation-report:end -->"
KILLED = {1: "killed", 3: "killed", 36: "timeout", -24: "timeout", 24: "timeout", 152: "timeout", 255: "timeout",
          37: "type check"}
NOT_RUN = {None: "not checked", 34: "skipped", 2: "interrupted"}


@dataclass
class Module:
    """One mutated file: its mutants' outcomes and the names of those that survived."""

    path: str
    outcomes: Counter[str] = field(default_factory=Counter)
    survivors: list[str] = field(default_factory=list)

    @property
    def tried(self) -> int:
        return sum(n for status, n in self.outcomes.items() if status not in NOT_RUN.values())

    @property
    def killed(self) -> int:
        return sum(self.outcomes[status] for status in set(KILLED.values()))

    @property
    def rate(self) -> float:
        return 100.0 * self.killed / self.tried if self.tried else 0.0


def guard_patterns(pyproject: Path = REPO / "pyproject.toml") -> list[str]:
    """The guard modules mutmut mutates (paths or globs, relative to the repository)."""
    patterns: list[str] = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["mutmut"]["only_mutate"]
    return patterns


def collect(mutants: Path, patterns: list[str]) -> dict[str, Module]:
    """Every mutated file under `mutants/` whose path matches one of `patterns`."""
    modules: dict[str, Module] = {}
    for meta in sorted(mutants.rglob("*.py.meta")):
        path = meta.relative_to(mutants).as_posix().removesuffix(".meta")
        if not any(fnmatch.fnmatch(path, pattern) for pattern in patterns):
            continue
        exit_codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        if not exit_codes:
            continue
        module = modules.setdefault(path, Module(path))
        for name, code in exit_codes.items():
            status = KILLED.get(code) or NOT_RUN.get(code) or {0: "survived", 5: "no tests", 33: "no tests"}.get(
                code, "suspicious"
            )
            module.outcomes[status] += 1
            if status in ("survived", "no tests", "suspicious"):
                module.survivors.append(name)
    return modules


def reasons(path: Path = SURVIVORS) -> dict[str, str]:
    """Mutant name -> why it may survive (from survivors.toml)."""
    if not path.exists():
        return {}
    table = tomllib.loads(path.read_text(encoding="utf-8"))
    return {name: str(entry["reason"]) for name, entry in table.get("survivors", {}).items()}


def render(modules: dict[str, Module], why: dict[str, str], target: float) -> str:
    """The Markdown report: one row per module, then each survivor with its reason."""
    lines = ["| module | mutants | killed | survived | no tests | kill rate |", "|---|---:|---:|---:|---:|---:|"]
    for module in modules.values():
        mark = "" if module.rate >= target else " **below target**"
        lines.append(f"| `{module.path}` | {module.tried} | {module.killed} | {module.outcomes['survived']} | "
                     f"{module.outcomes['no tests']} | {module.rate:.1f}%{mark} |")
    total_tried = sum(m.tried for m in modules.values())
    total_killed = sum(m.killed for m in modules.values())
    lines.append(f"| **all** | {total_tried} | {total_killed} | | | "
                 f"{100.0 * total_killed / total_tried if total_tried else 0:.1f}% |")
    survivors = [(name, why.get(name)) for module in modules.values() for name in module.survivors]
    lines += ["", f"Survivors ({len(survivors)}), each with its reason:", ""]
    lines += [f"- `{name}`: {reason or 'NO REASON RECORDED (kill it with a test, or say why it may live)'}"
              for name, reason in survivors]
    return "\n".join(lines) + "\n"


def write_into(document: Path, report: str) -> None:
    """Replace the text between the report markers of `document`."""
    text = document.read_text(encoding="utf-8")
    head, found, rest = text.partition(BEGIN)
    _, found_end, tail = rest.partition(END)
    if not (found and found_end):
        raise SystemExit(f"{document} has no {BEGIN} ... {END} section to write the report into")
    document.write_text(f"{head}{BEGIN}\n{report}{END}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Print the report; exit 1 if a module is under `--target` or a survivor has no reason."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=float, default=90.0, help="minimum kill rate per module, in percent")
    parser.add_argument("--modules", nargs="*", default=None, help="only these paths/globs (default: all guards)")
    parser.add_argument("--mutants", type=Path, default=REPO / "mutants")
    parser.add_argument("--write", type=Path, default=None, help="also write the report into this document")
    args = parser.parse_args(argv)
    patterns = args.modules or guard_patterns()
    modules = collect(args.mutants, patterns)
    unmatched = [p for p in patterns if not any(fnmatch.fnmatch(path, p) for path in modules)]
    why = reasons()
    report = render(modules, why, args.target)
    print(report)
    if args.write:
        write_into(args.write, report)
    problems = [f"no mutation results for {pattern} (moved or renamed? update [tool.mutmut] only_mutate)"
                for pattern in unmatched]
    problems += [f"{m.path}: {m.rate:.1f}% killed, under the {args.target:.0f}% target"
                 for m in modules.values() if m.rate < args.target]
    problems += [f"{name} survived with no reason recorded" for m in modules.values() for name in m.survivors
                 if name not in why]
    for problem in problems:
        print(f"mutation: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
