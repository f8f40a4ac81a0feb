#!/usr/bin/env bash
# Download the wheels a GPU machine with PyTorch and JAX (but no TensorFlow, and no package index)
# lacks to run the course and the benchmarks: Keras, nbval and the Jupyter kernel with their needs.
# They land in .gpu-wheels/ (git-ignored); there, install them with
#
#   python3 -m pip install -q --no-index --no-deps --target /tmp/site .gpu-wheels/*.whl
#   export PYTHONPATH=/tmp/site:$PWD
#
# Everything else the course needs (NumPy, matplotlib, scikit-image, pandas, Pillow, tqdm, pytest,
# h5py, rich, ...) is assumed there already. PYTHON_VERSION is the GPU machine's Python (3.12).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON_VERSION=${PYTHON_VERSION:-3.12}
WHEELS=(
  keras namex optree                                        # Keras 3 (absl-py, h5py, ml-dtypes, rich: there)
  nbval nbformat fastjsonschema jsonschema jsonschema-specifications referencing rpds-py
  jupyter-client jupyter-core platformdirs pyzmq tornado traitlets
  ipykernel comm debugpy matplotlib-inline nest-asyncio2
  ipython ipython-pygments-lexers jedi parso pexpect ptyprocess prompt-toolkit wcwidth
  stack-data asttokens executing pure-eval
  ipywidgets widgetsnbextension jupyterlab-widgets
)
platforms=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux1_x86_64; do
  platforms+=(--platform "$p")
done
rm -rf .gpu-wheels
python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version "$PYTHON_VERSION" \
  --implementation cp "${platforms[@]}" -d .gpu-wheels "${WHEELS[@]}"
echo "$(ls .gpu-wheels | wc -l) wheels, $(du -sh .gpu-wheels | cut -f1) in .gpu-wheels/"
