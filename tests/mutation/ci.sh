#!/usr/bin/env bash
# The bounded mutation run for CI (`make mutation-ci`): only the guard modules this branch changed
# against its merge base with main; if it changed none, a fixed small set. Each mutant runs only the
# fast unit tests that reach the function it changed, so this fits a few minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-.venv/bin}
FIXED=(appliance/gate/rules.py appliance/store/audit_chain.py)

base=$(git merge-base HEAD origin/main 2>/dev/null || git merge-base HEAD main 2>/dev/null || true)
changed=()
if [ -n "$base" ]; then
    mapfile -t changed < <(git diff --name-only "$base" -- 'appliance/*.py' \
        | "$BIN/python" -c 'import fnmatch, sys
from tests.mutation.report import guard_patterns
patterns = guard_patterns()
for line in sys.stdin:
    path = line.strip()
    if path and any(fnmatch.fnmatch(path, p) for p in patterns):
        print(path)')
fi
modules=("${changed[@]}")
[ ${#modules[@]} -gt 0 ] || modules=("${FIXED[@]}")
existing=()
for module in "${modules[@]}"; do [ -f "$module" ] && existing+=("$module"); done  # a deleted guard has no mutants
[ ${#existing[@]} -gt 0 ] || existing=("${FIXED[@]}")
globs=()
for module in "${existing[@]}"; do globs+=("$(echo "${module%.py}" | tr / .).*"); done
echo "mutation-ci: ${existing[*]}"
rm -rf mutants
"$BIN/mutmut" run --max-children "${MUTATION_CHILDREN:-2}" "${globs[@]}" > mutants.log 2>&1 || { tail -40 mutants.log; exit 1; }
"$BIN/python" -m tests.mutation.report --modules "${existing[@]}"
