"""Starting Keras and its backend without the backend's C++ start-up lines (notebook 00).

On a machine without a GPU, importing TensorFlow and finding its devices prints lines such as::

    I0000 00:00:... cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.
    E0000 00:00:... cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: ...

to the process' standard error: under the first cell of every notebook and under every command
that trains.  They say nothing a student must act on, and they look like failures.

:func:`start` imports Keras and finds the devices quietly.  It is called where the course imports
Keras on purpose, before anything else touches it: :func:`deepcolor.config.environment` (the first
cell of every notebook, through ``config.show``) and the commands of :mod:`deepcolor.cli` that use
Keras.  Importing ``deepcolor`` itself never calls it: setting a process-wide variable or touching
standard error is not something an ``import`` may do.

What it does, unless the user has set ``TF_CPP_MIN_LOG_LEVEL`` (then it changes nothing, so that
``TF_CPP_MIN_LOG_LEVEL=0`` still shows everything):

- sets ``TF_CPP_MIN_LOG_LEVEL=2`` (:func:`deepcolor.settings.quiet_tf_logs`), so TensorFlow's
  later C++ INFO and WARNING lines are not shown; its errors are;
- drops TensorFlow's "triggered tf.function retracing" warning (:func:`_drop_retracing_warnings`),
  which training several models one after another sets off by design;
- while Keras is imported and the devices are found, reads what is written to file descriptor 2 and
  writes back every line except the C++ INFO and WARNING lines, absl's "All log messages before
  absl::InitializeLog()" notice, the CUDA probe's "failed call to cuInit" error and oneDNN's
  "supports DT_INT32 only on platforms with AVX-512", which a one-step fit says there
  (:func:`_first_upsampling_gradient`) rather than in a student's first training cell.  TensorFlow
  2.16 and later print these lines before its log level is read, so the variable alone does not
  hide them.  Python's warnings and anything else are written back unchanged.

Under JAX it also keeps compiled steps on disk, in ``$DEEPCOLOR_HOME/jax-cache``
(:func:`use_compilation_cache`), whatever ``TF_CPP_MIN_LOG_LEVEL`` says.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import re
import sys
import tempfile

from . import settings

# absl's line prefix: severity, date, time, thread id, file:line]
_CXX_LINE = re.compile(rb"^[IWE]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [\w.+-]+:\d+\] ")
_NOTICES = (b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
            b"To enable the following instructions:")  # the second line of cpu_feature_guard's INFO
_EXPECTED_ERRORS = (b"failed call to cuInit",  # no GPU or no driver here: TensorFlow uses the CPU
                    b"oneDNN supports DT_INT32 only on platforms with AVX-512")  # a CPU without AVX-512: Eigen works

_started = []

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
"""What ``DEEPCOLOR_PRECISION`` may say: Keras dtype policies.  The mixed ones compute in 16 bits and
keep the weights in float32; they speed up GPUs with tensor cores, rarely a CPU."""


def is_startup_noise(line: bytes) -> bool:
    """Whether one line of standard error is backend start-up noise that :func:`start` hides:
    a C++ INFO or WARNING line, absl's notice, or the failed CUDA probe of a machine without a GPU.
    Every other error line, and every line that is not the backend's, is kept."""
    if line.startswith(_NOTICES):
        return True
    if not _CXX_LINE.match(line):
        return False
    return line[:1] in (b"I", b"W") or any(text in line for text in _EXPECTED_ERRORS)


@contextlib.contextmanager
def filtered_stderr():
    """Run the body with file descriptor 2 going to a temporary file; afterwards write back to it
    every line that is not :func:`is_startup_noise`, in order.  Nothing else is lost, only delayed."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with tempfile.TemporaryFile() as capture:
            os.dup2(capture.fileno(), 2)
            try:
                yield
            finally:
                with contextlib.suppress(Exception):
                    sys.stderr.flush()
                os.dup2(saved, 2)
                capture.seek(0)
                kept = [line for line in capture.read().splitlines(keepends=True) if not is_startup_noise(line)]
                if kept:
                    os.write(2, b"".join(kept))
    finally:
        os.close(saved)


def start():
    """Import Keras and find the backend's devices, without the C++ start-up lines (see the module
    docstring); returns the ``keras`` module.  Cheap after the first call."""
    if _started:
        return _started[0]
    check_backend_name()
    quiet = settings.quiet_tf_logs()
    with filtered_stderr() if quiet else contextlib.nullcontext():
        keras = importlib.import_module("keras")
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            tf.config.list_logical_devices()  # the CUDA probe, while its lines are filtered
            if quiet:
                _first_upsampling_gradient(keras)
    apply_precision(keras)
    use_compilation_cache(keras)
    if quiet:
        logging.getLogger("tensorflow").addFilter(_drop_retracing_warnings)
    _started.append(keras)
    return keras


BACKENDS = ("tensorflow", "jax", "torch")  # the ones the course runs on (Keras knows numpy, openvino too)


def check_backend_name() -> None:
    """ValueError naming ``KERAS_BACKEND`` and its choices when it names no Keras backend (Keras'
    own message, "Unable to import backend : foo", names neither)."""
    name = os.environ.get("KERAS_BACKEND")
    if name is not None and name not in BACKENDS + ("numpy", "openvino"):
        raise ValueError(f"the environment variable KERAS_BACKEND is {name!r}, which is no Keras backend: set it "
                         f"to one of {', '.join(BACKENDS)} (e.g. export KERAS_BACKEND=jax), or unset it for "
                         "tensorflow")


def _drop_retracing_warnings(record: logging.LogRecord) -> bool:
    """Keep every TensorFlow log record except its "triggered tf.function retracing" warning.

    Keras wraps each model's train and test step in a new ``tf.function``, and TensorFlow counts
    the traces of all of them together: training models one after another (the study of notebook
    08), each traced once and again for a smaller last batch, sets the warning off although every
    trace is by design, and a student can do nothing about it."""
    return "triggered tf.function retracing" not in record.getMessage()


def _first_upsampling_gradient(keras) -> None:
    """Fit a two-layer model (a strided convolution and an upsampling, with Adam) for one step, as
    every model of the course is trained, while standard error is filtered: on a CPU without
    AVX-512, TensorFlow's oneDNN says once per process, at the first such fit, that it "supports
    DT_INT32 only on platforms with AVX-512" and falls back to Eigen.  Said here, the line is
    hidden; said in the middle of a student's training cell, it is a red error line about nothing
    they can change.  (A lone gradient or ``train_on_batch`` with SGD does not set it off.)"""
    import numpy as np

    x = keras.Input((4, 4, 1))
    model = keras.Model(x, keras.layers.UpSampling2D()(keras.layers.Conv2D(1, 3, strides=2, padding="same")(x)))
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.zeros((1, 4, 4, 1), np.float32), np.zeros((1, 4, 4, 1), np.float32), verbose=0)


JAX_CACHE_DIR = "jax-cache"
"""The folder in :func:`deepcolor.settings.deepcolor_home` where :func:`use_compilation_cache` keeps
JAX's compiled steps."""

MIN_COMPILE_SECONDS = 0.0
"""Every compile is kept, not only those over JAX's default of 1 s: on a CPU the course's steps
compile in 0.1-3 s and its eager operations in tens of milliseconds, and reading one back takes
about a third of that."""


def use_compilation_cache(keras) -> str | None:
    """Under JAX, keep compiled steps on disk in ``$DEEPCOLOR_HOME/jax-cache`` (JAX's persistent
    compilation cache), so that a later session, or a model of the same shape trained later in this
    one, reads a compiled training step instead of compiling it again.  Called by :func:`start`.

    Returns the folder in use, or None: another backend; a folder the user chose with
    ``JAX_COMPILATION_CACHE_DIR`` (or ``jax.config``), which is kept; or a home that cannot be written,
    where JAX simply compiles as before.  JAX's keys name the folder, so a cache moved or copied
    elsewhere is not found there.  Like the runs kept there, the cache is trusted: JAX runs what it
    finds in it, so ``DEEPCOLOR_HOME`` must not be writable by others.  Introduced in notebook
    ``00_start_here``."""
    if keras.backend.backend() != "jax":
        return None
    import jax

    if jax.config.jax_compilation_cache_dir:  # the user's own, from JAX_COMPILATION_CACHE_DIR or their code
        return None
    folder = settings.deepcolor_home() / JAX_CACHE_DIR
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    if not os.access(folder, os.W_OK | os.X_OK):
        return None
    jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_SECONDS)
    jax.config.update("jax_compilation_cache_dir", str(folder))
    return str(folder)


def apply_precision(keras) -> str:
    """Set Keras' global dtype policy from ``$DEEPCOLOR_PRECISION`` (one of :data:`PRECISIONS`), if
    set; returns the policy in force.  Called by :func:`start`.  Models built afterwards compute in
    that precision; runs record it (:mod:`deepcolor.train`) and are reused only under the same one."""
    name = settings.precision()
    if name is None:
        return keras.config.dtype_policy().name
    if name not in PRECISIONS:
        raise ValueError(f"{settings.PRECISION_ENV}={name!r} is not a precision the course knows: "
                         f"set it to one of {', '.join(PRECISIONS)}, or unset it for float32")
    keras.config.set_dtype_policy(name)
    return name
