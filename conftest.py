"""Settings for every pytest run, the notebooks' (nbval) included.

Tests and the notebook run use the ``smoke`` profile (the built-in sample, tiny sizes, the
untrained embedder) unless DEEPCOLOR_PROFILE is set, e.g. by scripts/run_course_gpu.sh.
Notebook kernels inherit these variables from the pytest process.
"""

import os

os.environ.setdefault("DEEPCOLOR_PROFILE", "smoke")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
