#!/usr/bin/env bash
# Run every notebook of the course under nbval on a GPU machine.
#
#   scripts/run_course_gpu.sh [PROFILE] [BACKEND] [FROM]
#
# PROFILE: default (Kaggle subset + ImageNet embeddings; falls back to the sample offline) or full
# (the paper's setting; needs the Kaggle data and the ImageNet weights).  BACKEND: tensorflow, jax
# or torch -- a GPU machine with PyTorch or JAX and no TensorFlow runs the same notebooks.
# Runs the notebooks one by one, in order, as a student would, and prints each one's wall time and
# result as it ends (so a run cut short still shows the notebooks it finished); the whole output
# goes to course-PROFILE-BACKEND.log.
# Precision: DEEPCOLOR_PRECISION (Keras' dtype policy in every notebook) is mixed_bfloat16 unless set,
# which JAX and PyTorch run in 16 bits on NVIDIA GPUs since Ampere; DEEPCOLOR_PRECISION=float32 to compare.
# Runs record their precision and are reused only under the same one.
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE=${1:-default}
BACKEND=${2:-${KERAS_BACKEND:-tensorflow}}
FROM=${3:-00}  # the first notebook's number: 07 runs 07 onwards (each trains what it lacks)
PYTHON=${PYTHON:-python3}

export DEEPCOLOR_PROFILE=$PROFILE KERAS_BACKEND=$BACKEND MPLBACKEND=Agg
export DEEPCOLOR_PRECISION=${DEEPCOLOR_PRECISION:-mixed_bfloat16}
"$PYTHON" - <<PY
import importlib.util, sys
backend = "$BACKEND"
module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}[backend]
if importlib.util.find_spec(module) is None:
    sys.exit(f"KERAS_BACKEND={backend} but {module} is not installed")
PY
echo "profile=$PROFILE backend=$BACKEND precision=$DEEPCOLOR_PRECISION"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || echo "no nvidia-smi: is there a GPU?"
set -o pipefail
LOG="course-$PROFILE-$BACKEND.log"
: > "$LOG"
failed=0
total_start=$(date +%s%N)
for notebook in notebooks/[0-9][0-9]_*.ipynb; do
  [[ "$(basename "$notebook")" < "$FROM" ]] && continue
  start=$(date +%s%N)
  if "$PYTHON" -m pytest --nbval-lax --nbval-current-env "$notebook" -q -p no:cacheprovider >> "$LOG" 2>&1; then
    result=passed
  else
    result=FAILED; failed=1
  fi
  printf '%-32s %7.1f s  %s\n' "$(basename "$notebook" .ipynb)" "$(( ($(date +%s%N) - start) / 1000000 ))e-3" "$result" | tee -a "$LOG"
done
printf '%-32s %7.1f s\n' "all notebooks" "$(( ($(date +%s%N) - total_start) / 1000000 ))e-3" | tee -a "$LOG"
exit $failed
