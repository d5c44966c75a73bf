#!/usr/bin/env bash
# Build and install the pinned llama-cpp-python into one Python environment: the ONE place that says how.
# `make venv` (CPU, CI and developers) and Dockerfile.gpu's build stage (CUDA) both run this script.
#
# usage: deploy/build-llama-cpp.sh [--python PATH] [--cuda ARCHS] [--pyproject FILE]
#   --python PATH     the environment's interpreter (default: python3 on PATH)
#   --cuda ARCHS      CUDA build for these GPU architectures, e.g. 90 (H100) or "80;90"; adds
#                     -DGGML_CUDA=on -DCMAKE_CUDA_ARCHITECTURES=ARCHS -DGGML_NATIVE=off (portable CPU code)
#   --pyproject FILE  where the pin is read from (default: the repository's pyproject.toml)
#   --dry-run         print what would be installed, with which flags and wheel cache, and stop
# Extra CMake flags can come in $CMAKE_ARGS, as for a plain `pip install llama-cpp-python`.
#
# pip's wheel cache keeps the built wheel, so the next environment with the same flags installs in seconds.
# The cache is keyed by the source archive, not by CMAKE_ARGS: a build with flags therefore uses its own cache
# directory (one per set of flags), so a CPU wheel is never taken for a CUDA one, or the other way round.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="python3"
pyproject="$here/../pyproject.toml"
cuda=""
dry_run=""

while [ $# -gt 0 ]; do
  case "$1" in
    --python) python="${2:?--python needs a path}"; shift 2 ;;
    --cuda) cuda="${2:?--cuda needs architectures, e.g. 90}"; shift 2 ;;
    --pyproject) pyproject="${2:?--pyproject needs a file}"; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "error: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

pin="$(sed -n 's/^[[:space:]]*"llama-cpp-python==\([^"]*\)".*/\1/p' "$pyproject")"
if [ -z "$pin" ] || [ "$(printf '%s\n' "$pin" | wc -l)" -ne 1 ]; then
  echo "error: $pyproject must pin exactly one \"llama-cpp-python==X.Y.Z\" in [project] dependencies" >&2
  exit 2
fi

cmake_args="${CMAKE_ARGS:-}"
if [ -n "$cuda" ]; then
  case "$cuda" in *[!0-9\;]*) echo "error: --cuda takes architectures like 90 or \"80;90\", not '$cuda'" >&2; exit 2 ;; esac
  cmake_args="-DGGML_CUDA=on -DCMAKE_CUDA_ARCHITECTURES=$cuda -DGGML_NATIVE=off${cmake_args:+ $cmake_args}"
  # No GPU driver inside a docker build: link against the toolkit's stub libcuda.so.
  for stubs in /usr/local/cuda/lib64/stubs /usr/local/cuda/targets/x86_64-linux/lib/stubs; do
    [ -d "$stubs" ] && export LIBRARY_PATH="$stubs${LIBRARY_PATH:+:$LIBRARY_PATH}"
  done
fi
flavor="llama-cpp-python==$pin ${cmake_args:-(cpu default)}"

if [ -n "$dry_run" ]; then
  key="$(printf '%s' "$cmake_args" | sha256sum | cut -c1-16)"
  echo "would install: $flavor"
  echo "CMAKE_ARGS=$cmake_args"
  if [ -n "$cmake_args" ]; then echo "wheel cache: <pip cache dir>/llama-cpp-$key"; else echo "wheel cache: default"; fi
  exit 0
fi

prefix="$("$python" -c 'import sys; print(sys.prefix)')"
marker="$prefix/.llama-cpp-python.build"
installed="$("$python" -c 'import importlib.metadata as m; print(m.version("llama-cpp-python"))' 2>/dev/null || true)"

if [ "$installed" = "$pin" ]; then
  # Already there: keep it if it was built with these flags (a CPU build from before this script counts).
  if { [ -f "$marker" ] && [ "$(cat "$marker")" = "$flavor" ]; } || { [ ! -f "$marker" ] && [ -z "$cmake_args" ]; }; then
    printf '%s\n' "$flavor" > "$marker"
    echo "llama-cpp-python $pin already installed in $prefix ($flavor)"
    exit 0
  fi
  "$python" -m pip uninstall -y llama-cpp-python
fi

if [ -n "$cmake_args" ]; then
  key="$(printf '%s' "$cmake_args" | sha256sum | cut -c1-16)"
  base="$("$python" -m pip cache dir 2>/dev/null || echo "${XDG_CACHE_HOME:-$HOME/.cache}/pip")"
  export PIP_CACHE_DIR="$base/llama-cpp-$key"
fi

# The other pins of pyproject.toml constrain llama-cpp-python's own dependencies (numpy, jinja2, ...).
constraints="$(mktemp)"
trap 'rm -f "$constraints"' EXIT
sed -n 's/^[[:space:]]*"\([A-Za-z0-9._-]*==[^"]*\)".*/\1/p' "$pyproject" > "$constraints"

echo "installing $flavor into $prefix${PIP_CACHE_DIR:+ (wheel cache $PIP_CACHE_DIR)}"
CMAKE_ARGS="$cmake_args" "$python" -m pip install --constraint "$constraints" "llama-cpp-python==$pin"
printf '%s\n' "$flavor" > "$marker"
