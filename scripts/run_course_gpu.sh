#!/usr/bin/env bash
# Run every notebook of the course under nbval on a GPU machine.
#
#   scripts/run_course_gpu.sh [PROFILE] [BACKEND]
#
# PROFILE: default (Kaggle subset + ImageNet embeddings; falls back to the sample offline) or full
# (the paper's setting; needs the Kaggle data and the ImageNet weights).  BACKEND: tensorflow, jax
# or torch -- a GPU machine with PyTorch or JAX and no TensorFlow runs the same notebooks.
# Prints each notebook's time (pytest --durations) and writes the log to course-PROFILE-BACKEND.log.
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE=${1:-default}
BACKEND=${2:-${KERAS_BACKEND:-tensorflow}}
PYTHON=${PYTHON:-python3}

export DEEPCOLOR_PROFILE=$PROFILE KERAS_BACKEND=$BACKEND MPLBACKEND=Agg
"$PYTHON" - <<PY
import importlib.util, sys
backend = "$BACKEND"
module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}[backend]
if importlib.util.find_spec(module) is None:
    sys.exit(f"KERAS_BACKEND={backend} but {module} is not installed")
PY
echo "profile=$PROFILE backend=$BACKEND"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || echo "no nvidia-smi: is there a GPU?"
set -o pipefail
"$PYTHON" -m pytest --nbval-lax --nbval-current-env notebooks --durations=0 -p no:cacheprovider \
  2>&1 | tee "course-$PROFILE-$BACKEND.log"
