#!/bin/bash
# Fill the git-ignored .gpu/ of the checkout you run this in (run it from that checkout's root) with what
# a GPU machine that reaches no package index needs to time the engine there (~30 MB):
#   .gpu/whl/            wheels for the GPU machine's Python 3.12 (the pinned llguidance, outlines-core,
#                        pydantic, jsonschema, gguf and their needs)
#   .gpu/llama_src.tar.gz  the pinned llama-cpp-python sdist, trimmed to ~9 MB (built with CUDA there)
#   .gpu/vocab/          llama.cpp's Llama-3 vocabulary (for mkq4k.py's random-weight 8B model)
#   .gpu/tools/          run.sh, mkq4k.py
#   .gpu/project/        the code measured: appliance/, dev/appliance_dev/, models/manifest.toml
# usage: dev/gpu/prepare.sh [SOURCE]   SOURCE: the checkout whose code and pins are measured (default: the
# one this script lives in). Then on the GPU machine, from the same root, with .gpu/ carried along:
#   bash .gpu/tools/run.sh      (results in $OUT, see dev/gpu/README.md)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$(cd "${1:-$here/../..}" && pwd)"
py="${PYTHON:-python3}"
pins() { sed -n "s/^[[:space:]]*\"\($1==[^\"]*\)\".*/\1/p" "$src/pyproject.toml"; }
pin=$(pins llama-cpp-python | sed 's/.*==//')
[ -n "$pin" ] || { echo "error: $src/pyproject.toml pins no llama-cpp-python" >&2; exit 2; }
mkdir -p .git/info
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
rm -rf .gpu/whl .gpu/vocab .gpu/tools .gpu/project
mkdir -p .gpu/whl .gpu/vocab .gpu/tools .gpu/project/dev .gpu/project/models
plat="--platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 --platform manylinux_2_31_x86_64"
wheels() { "$py" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp $plat -d .gpu/whl "$@"; }
wheels "$(pins llguidance)" "$(pins outlines-core)" "$(pins pydantic)" "$(pins jsonschema)" "$(pins gguf)" \
  diskcache annotated-types typing-inspection typing-extensions jsonschema-specifications referencing rpds-py
core=$(unzip -p .gpu/whl/pydantic-2*.whl '*/METADATA' | sed -n 's/^Requires-Dist: pydantic-core==\(.*\)/\1/p')
wheels "pydantic-core==$core"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$py" -m pip download -q --no-deps --no-binary=:all: -d "$tmp" "llama-cpp-python==$pin"
tar xzf "$tmp"/llama_cpp_python-*.tar.gz -C "$tmp"; sdist=$(ls -d "$tmp"/llama_cpp_python-*/)
cp "$sdist/vendor/llama.cpp/models/ggml-vocab-llama-bpe.gguf" .gpu/vocab/
rm -rf "$sdist/.git" "$sdist/vendor/llama.cpp/models/"*.gguf* "$sdist/vendor/llama.cpp/docs" \
  "$sdist/vendor/llama.cpp/tools/ui" "$sdist/vendor/llama.cpp/tests" "$sdist/vendor/llama.cpp/benches" \
  "$sdist/vendor/llama.cpp/tools/mtmd/test-3.mp4"
tar czf .gpu/llama_src.tar.gz -C "$tmp" "$(basename "$sdist")"
cp "$src/dev/gpu/run.sh" "$src/dev/gpu/mkq4k.py" .gpu/tools/
cp -r "$src/appliance" .gpu/project/; cp -r "$src/dev/appliance_dev" .gpu/project/dev/
cp "$src/models/manifest.toml" .gpu/project/models/
find .gpu/project -name __pycache__ -prune -exec rm -rf {} +
echo "$(cd "$src" && git rev-parse --short HEAD 2>/dev/null || echo unknown)$(cd "$src" && git diff --quiet HEAD 2>/dev/null || echo '+changes')" > .gpu/project/COMMIT
du -sh .gpu
