#!/usr/bin/env bash
# Everything a GPU machine is lent for, in one go: the whole course under nbval
# (scripts/run_course_gpu.sh), then the throughput comparison with the PyTorch reference and the
# embedding pass.
#
#   scripts/gpu_check.sh OUTDIR [BUDGET_SECONDS]
#
# Expects the wheels of scripts/gpu_wheels.sh in .gpu-wheels/ (a machine without TensorFlow or a
# package index). Each part has its own time limit inside BUDGET_SECONDS (default 540), so a slow
# part cannot eat the others; every log lands in OUTDIR as it is written.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:?usage: scripts/gpu_check.sh OUTDIR [BUDGET_SECONDS]}
BUDGET=${2:-540}
mkdir -p "$OUT"
START=$SECONDS
left() { echo $(( BUDGET - (SECONDS - START) )); }

if [ -d .gpu-wheels ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .gpu-wheels/*.whl || exit 1
  export PYTHONPATH=/tmp/site:$PWD
fi
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg XLA_PYTHON_CLIENT_PREALLOCATE=false
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader; nproc; python3 --version
  python3 -c 'import torch, jax, keras; print("torch", torch.__version__, "jax", jax.__version__, "keras", keras.__version__)'
} > "$OUT/machine.txt" 2>&1
cat "$OUT/machine.txt"

echo "== the course under nbval, default profile, jax: $(left) s left"
timeout $(( $(left) - 220 )) scripts/run_course_gpu.sh default jax > "$OUT/course.txt" 2>&1
echo "exit $?"; cp course-default-jax.log "$OUT/" 2>/dev/null; tail -30 "$OUT/course.txt"

echo "== training throughput, Keras (jax, torch) vs the PyTorch reference, bf16: $(left) s left"
timeout 150 python3 benchmarks/train_throughput.py --compare-torch --precision bfloat16 \
  --batch-sizes 16 64 --steps 10 --warmup 3 --rounds 2 --peak-tflops 989 \
  --json "$OUT/compare-bf16.json" > "$OUT/compare-bf16.txt" 2>&1
echo "exit $?"; grep -v '^\s*\[' "$OUT/compare-bf16.txt" | tail -14



echo "== embedding pass, Inception-ResNet-v2 at 299: $(left) s left"
timeout $(( $(left) - 5 )) python3 benchmarks/embedding_throughput.py --backend jax --batch-sizes 16 64 256 \
  --images 512 --precision bfloat16 > "$OUT/embedding.txt" 2>&1
echo "exit $?"; tail -5 "$OUT/embedding.txt"
