#!/bin/bash
# On the GPU machine, from the root of the checkout that carries .gpu/ (dev/gpu/prepare.sh made it):
#   bash .gpu/tools/run.sh
# 1. installs the carried wheels into /tmp/site; 2. builds the pinned llama-cpp-python with CUDA for sm_90
# (deploy/build-llama-cpp.sh's --cuda flags; 253 s on 16 cores), skipped when /tmp/site already holds a CUDA
# build (a rerun on a still-warm machine); 3. writes the random-weight Q4_K model of Llama-3-8B's shape in
# parallel (~20 s; kept across reruns); 4. runs appliance_dev.bench.gpu on it within BENCH_BUDGET seconds.
# Every step has a timeout. Results in $OUT: gpu_bench.json (rewritten after each step), bench.log,
# nvidia-smi.txt, mk.log, build.log (tail).
set -u
export PYTHONUNBUFFERED=1
root=$PWD; OUT=${OUT:-$root/.gpu/out}; mkdir -p "$OUT"
BUILD_TIMEOUT=${BUILD_TIMEOUT:-450}; BENCH_BUDGET=${BENCH_BUDGET:-150}; LAYERS=${LAYERS:-32}
t0=$(date +%s); since() { echo "$(( $(date +%s) - t0 )) s"; }
timeout 30 nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1; head -20 "$OUT/nvidia-smi.txt"
timeout 30 nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,clocks.max.mem --format=csv
if ls /tmp/site/llama_cpp/lib 2>/dev/null | grep -q ggml-cuda; then kept=1; else kept=""; fi
[ -n "$kept" ] || timeout 120 python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/site .gpu/whl/*.whl || { echo "wheel install failed"; exit 1; }
model=/tmp/m/rand8b-$LAYERS.gguf; mkdir -p /tmp/m
if [ -f "$model.done" ]; then echo "model kept from an earlier run: $model"; mk=""
else
  ( PYTHONPATH=/tmp/site timeout 300 python3 .gpu/tools/mkq4k.py .gpu/vocab/ggml-vocab-llama-bpe.gguf "$model" "$LAYERS" \
      > "$OUT/mk.log" 2>&1 && touch "$model.done" ) & mk=$!
fi
if [ -n "$kept" ]; then
  echo "CUDA build kept from an earlier run (/tmp/site)"
else
  rm -rf /tmp/llama_cpp_python-*; tar xzf .gpu/llama_src.tar.gz -C /tmp && cd /tmp/llama_cpp_python-*/ || exit 1
  b0=$(date +%s)
  CMAKE_ARGS="-DGGML_CUDA=on -DCMAKE_CUDA_ARCHITECTURES=90 -DGGML_NATIVE=off" CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) \
    timeout "$BUILD_TIMEOUT" python3 -m pip install --no-index --no-deps --no-build-isolation --no-cache-dir \
    --target /tmp/site . > /tmp/build.log 2>&1
  rc=$?; tail -60 /tmp/build.log > "$OUT/build.log"; cd "$root"
  [ $rc -eq 0 ] || { echo "CUDA build failed (rc $rc) after $(( $(date +%s) - b0 )) s"; tail -30 /tmp/build.log; exit 1; }
  echo "cuda build $(( $(date +%s) - b0 )) s"
fi
[ -n "$mk" ] && { wait "$mk" || { echo "model write failed"; cat "$OUT/mk.log"; exit 1; }; }
cat "$OUT/mk.log" 2>/dev/null; ls -l "$model"; echo "ready at $(since)"
proj=$root/.gpu/project; [ -d "$proj/appliance" ] || proj=$root
echo "project $(cat "$proj/COMMIT" 2>/dev/null || echo "$proj")"
PYTHONPATH=/tmp/site:$proj:$proj/dev timeout $(( BENCH_BUDGET + 60 )) python3 -m appliance_dev.bench.gpu \
  "$model" "$OUT/gpu_bench.json" --budget-s "$BENCH_BUDGET" ${BENCH_ARGS:-} 2>&1 | tee "$OUT/bench.log" | tail -25
echo "bench rc ${PIPESTATUS[0]} at $(since)"; cat "$OUT/gpu_bench.json"
