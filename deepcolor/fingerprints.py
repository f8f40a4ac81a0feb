"""What identifies the images and the model a result was made with: short hashes and fingerprints.

Introduced with the run folders of notebook ``04_base_model``.  A run is reused, and a kept
measurement read back (:meth:`deepcolor.runs.Run.cached`), only when these are the same:

- :func:`index_hash`: which images, as one or more index arrays (the one function that hashes
  them: a run's split, the study's and the test tables' keys, a session's caches);
- :func:`data_fingerprint`: which dataset (:meth:`deepcolor.lab_dataset.LabDataset.fingerprint`,
  as JSON gives it back);
- :func:`layer_table_hash`: which definition of an architecture (:data:`deepcolor.paper.TABLES`).
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from . import paper  # paper.TABLES read when called: a table replaced later is seen, as models sees it


def index_hash(*index_arrays) -> str:
    """A short hash of one or more index arrays (which images): what a run, a cached measurement
    or a session's cache is keyed by.  ``index_hash(train, val)`` is the ``split`` of a record."""
    parts = [np.asarray(i, np.int64).tobytes() for i in index_arrays]
    return hashlib.sha256(b"|".join(parts)).hexdigest()[:12]


def split_hash(train_idx, val_idx) -> str:
    """The training and validation images of a split (:func:`index_hash`): a run is reused only for
    the split it was trained on, so that no reused model has seen the test images."""
    return index_hash(train_idx, () if val_idx is None else val_idx)


def layer_table_hash(arch: str) -> str:
    """A short hash of the layer table ``arch`` is built from (:data:`deepcolor.paper.TABLES`): a run
    is reused only by a model defined the same way, so editing an architecture means new runs."""
    paper.check_architecture(arch)
    return hashlib.sha256(repr(paper.TABLES[arch]).encode()).hexdigest()[:12]


def data_fingerprint(dataset) -> dict:
    """The dataset's fingerprint as JSON values (as a record written to disk gives it back)."""
    return json.loads(json.dumps(dataset.fingerprint()))
