"""Batches for ``model.fit``: ((L_scaled, embedding), ab_scaled), read batch by batch.

Introduced in notebook ``04_base_model``.
"""

from __future__ import annotations

import math

import numpy as np
import keras

from .lab_dataset import LabDataset
from .resize import resize_images
from .shapes import pad_rows, padded_weights


def resize_batch(x: np.ndarray, size: int) -> np.ndarray:
    """Resize a batch (N, H, W, C) to (N, size, size, C) with :func:`deepcolor.resize.resize_images`,
    the same resize that :func:`deepcolor.predict.predict_ab` applies at prediction time."""
    return resize_images(x, size, size)


class ColorBatches(keras.utils.PyDataset):
    """A Keras batch source over any dataset and index subset; works on every Keras backend.

    Yields ``((L_scaled, embedding), ab_scaled)``: L_scaled (b, S, S, 1) float32 in [0, 1],
    embedding (b, 1000) float32, ab_scaled (b, S, S, 2) float32 in [-1, 1], with S =
    ``input_size`` (default: the dataset's 224).  With ``shuffle`` the order is redrawn every
    epoch from ``seed`` and the epoch number, so a run is reproducible.  Only the images of one
    batch are read from the memory map at a time.

    dataset: a :class:`~deepcolor.lab_dataset.LabDataset`; indices: which images (default all);
    embeddings: (len(dataset), 1000) array or memmap, indexed by dataset position.
    pad: every batch has ``batch_size`` rows and a third element, Keras' ``sample_weight`` (b, S, S)
    float32: a short last batch is padded with zeros and weighted by
    :func:`deepcolor.shapes.padded_weights` (its loss and gradient are those of its real images; the
    others weigh 1), so that JAX compiles one training step, not two
    (:func:`deepcolor.train.training_batches` pads under JAX only).
    Extra keyword arguments (``workers``, ``use_multiprocessing``, ``max_queue_size``) go to
    :class:`keras.utils.PyDataset`.
    """

    def __init__(self, dataset: LabDataset, embeddings, indices=None, batch_size: int = 32,
                 shuffle: bool = True, seed: int = 0, input_size: int | None = None, pad: bool = False,
                 **kwargs):
        super().__init__(**kwargs)
        self.dataset = dataset
        self.indices = np.arange(len(dataset)) if indices is None else np.asarray(indices, dtype=np.int64)
        if self.indices.size == 0:
            raise ValueError("no images to batch: the index subset is empty")
        if embeddings is None or len(embeddings) != len(dataset) or np.shape(embeddings)[1:] != (1000,):
            raise ValueError(
                f"embeddings must be ({len(dataset)}, 1000), one row per dataset image, got "
                f"{None if embeddings is None else np.shape(embeddings)}; compute them with "
                "deepcolor.embedding_cache.dataset_embeddings(dataset, mode)"
            )
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.embeddings = embeddings
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.seed = seed
        self.input_size = input_size or dataset.image_size
        self.pad = bool(pad)
        self.epoch = 0
        self.order = self._order(0)

    def _order(self, epoch: int) -> np.ndarray:
        if not self.shuffle:
            return self.indices
        return np.random.default_rng([self.seed, epoch]).permutation(self.indices)

    def __len__(self) -> int:
        return math.ceil(len(self.indices) / self.batch_size)

    def __getitem__(self, i: int):
        if not 0 <= i < len(self):
            raise IndexError(f"batch {i} out of range ({len(self)} batches)")
        idx = np.sort(self.order[i * self.batch_size : (i + 1) * self.batch_size])
        l8, ab8 = self.dataset.batch_raw(idx)
        L = l8[..., None].astype(np.float32) * np.float32(1 / 255)  # = L / 100
        ab = ab8.astype(np.float32) * np.float32(1 / 128) - np.float32(1)  # = (ab8 - 128) / 128
        if self.input_size != L.shape[1]:
            L, ab = resize_batch(L, self.input_size), resize_batch(ab, self.input_size)
        emb = np.asarray(self.embeddings[idx], dtype=np.float32)
        if not self.pad:
            return (L, emb), ab
        rows, weights = self.batch_size, padded_weights(len(idx), self.batch_size, ab.shape[1:3])
        return (pad_rows(L, rows), pad_rows(emb, rows)), pad_rows(ab, rows), weights

    def set_epoch(self, epoch: int) -> None:
        """Jump to the shuffle order of ``epoch`` (used when a run resumes mid-way)."""
        self.epoch = int(epoch)
        self.order = self._order(self.epoch)

    def on_epoch_end(self):
        self.set_epoch(self.epoch + 1)
