"""Every environment variable deepcolor reads, and the folders they choose.

Introduced in notebook ``00_start_here``.  No other module reads ``os.environ``:

| variable | what it sets | default |
|---|---|---|
| ``DEEPCOLOR_PROFILE`` | the profile of every notebook (:mod:`deepcolor.config`) | ``default`` |
| ``DEEPCOLOR_HOME`` | where generated data, embeddings and runs are cached | ``$XDG_CACHE_HOME/deepcolor``, i.e. ``~/.cache/deepcolor`` |
| ``DEEPCOLOR_RUNS`` | where training run folders go | ``<home>/runs`` |
| ``DEEPCOLOR_KAGGLE_DIR`` | a local copy of the Kaggle set | none: an installed classroom pack, then kagglehub's cache, is searched |
| ``KAGGLEHUB_CACHE`` | kagglehub's download cache, where ``default`` downloads its Kaggle files (:mod:`deepcolor.kaggle`) | ``~/.cache/kagglehub`` |
| ``DEEPCOLOR_OFFLINE`` | ``1``: never probe the network nor download (Kaggle files, ImageNet weights); ``default`` falls back to the sample at once | ``0``: download what the profile needs when its host answers |
| ``KERAS_HOME`` | Keras' cache of downloaded weights | ``~/.keras`` |
| ``DEEPCOLOR_PRECISION`` | Keras' dtype policy once :mod:`deepcolor.backend` starts Keras: ``float32``, ``mixed_float16`` or ``mixed_bfloat16`` (GPUs) | ``float32`` |
| ``TF_CPP_MIN_LOG_LEVEL`` | TensorFlow's C++ log level | ``2`` (errors only) once :mod:`deepcolor.backend` starts Keras |

A classroom pack (:mod:`deepcolor.classroom`) is installed into ``classroom/`` in the home folder.
"""

from __future__ import annotations

import os
from pathlib import Path

PROFILE_ENV = "DEEPCOLOR_PROFILE"
HOME_ENV = "DEEPCOLOR_HOME"
RUNS_ENV = "DEEPCOLOR_RUNS"
KAGGLE_ENV = "DEEPCOLOR_KAGGLE_DIR"
PRECISION_ENV = "DEEPCOLOR_PRECISION"
OFFLINE_ENV = "DEEPCOLOR_OFFLINE"
TF_LOG_ENV = "TF_CPP_MIN_LOG_LEVEL"
QUIET_TF_LOG_LEVEL = "2"  # hide TensorFlow's C++ INFO and WARNING lines, keep its errors


def _get(name: str) -> str | None:
    """The variable's value, or None when it is unset or empty."""
    return os.environ.get(name) or None


def profile() -> str | None:
    """``$DEEPCOLOR_PROFILE``, or None."""
    return _get(PROFILE_ENV)


def precision() -> str | None:
    """``$DEEPCOLOR_PRECISION``, or None (float32)."""
    return _get(PRECISION_ENV)


def offline() -> bool:
    """True if ``$DEEPCOLOR_OFFLINE`` is ``1`` (or ``true``, ``yes``, ``on``): nothing probes the
    network or downloads.  Unset, empty, ``0`` (``false``, ``no``, ``off``): False.  Any other
    value is a ValueError naming the variable."""
    value = (_get(OFFLINE_ENV) or "0").strip().lower()
    if value not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        raise ValueError(f"{OFFLINE_ENV}={_get(OFFLINE_ENV)!r} is neither on nor off: set it to 1 (stay offline) or 0")
    return value in ("1", "true", "yes", "on")


def deepcolor_home() -> Path:
    """Where generated data is cached: ``$DEEPCOLOR_HOME``, else ``$XDG_CACHE_HOME/deepcolor``
    (default ``~/.cache/deepcolor``)."""
    if _get(HOME_ENV):
        return Path(_get(HOME_ENV)).expanduser()
    return Path(_get("XDG_CACHE_HOME") or Path.home() / ".cache") / "deepcolor"


def runs_dir() -> Path:
    """Where training run folders go: ``$DEEPCOLOR_RUNS``, else ``runs/`` in :func:`deepcolor_home`."""
    return Path(_get(RUNS_ENV) or deepcolor_home() / "runs").expanduser()


def classroom_dir() -> Path:
    """Where ``deepcolor classroom use`` installs a classroom pack's data and embeddings:
    ``classroom/`` in :func:`deepcolor_home` (see :mod:`deepcolor.classroom`)."""
    return deepcolor_home() / "classroom"


def kaggle_dir() -> Path | None:
    """``$DEEPCOLOR_KAGGLE_DIR``, or None."""
    return Path(_get(KAGGLE_ENV)).expanduser() if _get(KAGGLE_ENV) else None


def kagglehub_cache() -> Path:
    """kagglehub's download cache: ``$KAGGLEHUB_CACHE``, else ``~/.cache/kagglehub``."""
    return Path(_get("KAGGLEHUB_CACHE") or Path.home() / ".cache" / "kagglehub").expanduser()


def keras_home() -> Path | None:
    """``$KERAS_HOME``, or None (Keras then uses ``~/.keras``)."""
    return Path(_get("KERAS_HOME")).expanduser() if _get("KERAS_HOME") else None


def notebook_environment(profile: str) -> dict:
    """The environment of a notebook's kernel run by ``deepcolor book`` (:mod:`deepcolor.book`):
    this process's, with ``DEEPCOLOR_PROFILE=profile``, and as a student's kernel starts:

    - without ``MPLBACKEND``, so that figures are Jupyter's inline PNGs (``MPLBACKEND=Agg`` would
      leave a line of text);
    - without ``TF_CPP_MIN_LOG_LEVEL`` when it is deepcolor's own quiet level (``2``): then
      :func:`deepcolor.backend.start` sets it, and also hides the backend's start-up lines, which
      it leaves alone for a user who set the variable.  Any other value is kept."""
    env = {name: value for name, value in os.environ.items() if name != "MPLBACKEND"}
    if env.get(TF_LOG_ENV) == QUIET_TF_LOG_LEVEL:
        del env[TF_LOG_ENV]
    env[PROFILE_ENV] = profile
    return env


def quiet_tf_logs() -> bool:
    """Set ``TF_CPP_MIN_LOG_LEVEL=2`` unless the user has set it; True if deepcolor set it.

    Called by :func:`deepcolor.backend.start` just before Keras is first imported, never at import
    time of ``deepcolor``.  A user who sets the variable (to ``0`` to see everything) keeps it.
    """
    if _get(TF_LOG_ENV) is not None:
        return False
    os.environ[TF_LOG_ENV] = QUIET_TF_LOG_LEVEL
    return True
