"""Colour as classification (Zhang, Isola and Efros 2016) on DeepColor's trunk.

Introduced in notebook ``11_colour_as_classes``.  The paper's networks regress ab with MSE,
which averages the plausible colours of an object into gray.  Here the same encoder, fusion and
decoder (``deepcolor.models.build_model(..., head="classify")``) predict, at each pixel, a
distribution over the Q ab bins of :func:`deepcolor.ab_bins.ab_bins`, trained with a (rebalanced)
categorical cross-entropy against soft-encoded targets; :class:`AnnealedColorizer` turns the
distribution back into ab with the annealed mean.

- :func:`build_classifier`: the model; output (N, S/2, S/2, Q) softmax probabilities: the
  classifier predicts at the decoder's resolution before the last upsampling (half the input
  side), which keeps the (..., Q) targets and outputs small; the colour is upsampled afterwards.
- :class:`ClassifierHead` (a :class:`deepcolor.heads.Head`): what defines a classifier beyond
  :class:`deepcolor.train.TrainConfig` (rebalancing and its lambda, the bins, the soft
  encoding); ``deepcolor.train.train(...,
  head=ClassifierHead())`` and ``train_or_load`` train it in a run folder (record, checkpoints,
  resume, reuse), as they do the MSE models.
- :class:`ClassBatches`: ((L / 100, embedding), soft targets[, per-pixel weights]) for ``fit``.
- :class:`AnnealedColorizer`: probabilities -> annealed mean at temperature T, read by
  :func:`deepcolor.predict.predict_ab` like a regression model's ab (-> photo size).

The rebalancing weights go to Keras as ``sample_weight`` (b, S/2, S/2), one per pixel.  Keras'
``CategoricalCrossentropy`` (reduction "sum_over_batch_size") then minimises
sum over the batch's pixels of w * CE, divided by the number of pixels b * S/2 * S/2 (not by the
sum of the weights): Zhang et al.'s weighted sum (eq. 2) times 1 / (b * S/2 * S/2), the same
factor for every batch of b images (a smaller last batch of an epoch gets a larger one, as with
any Keras loss).  ``tests/test_classify.py`` checks this against numpy.
"""

from __future__ import annotations

import math

import keras
import numpy as np

from . import ab_bins as bins_module
from .ab_bins import ZHANG_T  # Zhang et al.'s annealed-mean temperature, 0.38 (section 2.2)
from .color import AB_SCALE
from .heads import ZHANG_LAMBDA, ClassifierHead  # the head is a value of deepcolor.heads
from .models import build_model
from .resize import resize_images
from .shapes import pad_rows, padded_weights

__all__ = ["AnnealedColorizer", "ClassBatches", "ClassifierHead", "build_classifier", "classifier_batches",
           "classifier_output_size", "compile_classifier", "ZHANG_LAMBDA", "ZHANG_T"]

def classifier_output_size(input_size: int) -> int:
    """Side of the classifier's output for an ``input_size`` input: half of it, as the final
    upsampling of the decoder is dropped (notebook 11_colour_as_classes)."""
    return int(input_size) // 2


def build_classifier(name, input_size=224, l2=0.0, n_bins=None):
    """Architecture ``name`` with a classification head (notebook 11_colour_as_classes).

    Same trunk (layers, names, weights shapes) as ``deepcolor.models.build_model(name, ...)``
    but the last tanh conv(2) is a 1x1 conv with ``n_bins`` filters and softmax, and the final
    upsampling is dropped.  n_bins: Q, default ``len(ab_bins())`` (225).
    Inputs ``[L (N, S, S, 1) float32 in [0, 1], embedding (N, 1000)]``; output
    ``(N, S/2, S/2, Q)`` float32 in [0, 1], summing to 1 over the last axis.
    """
    if n_bins is None:
        n_bins = len(bins_module.ab_bins())
    return build_model(name, input_size, l2, head="classify", n_bins=n_bins)


class ClassBatches(keras.utils.PyDataset):
    """Batches for the classifier (notebook 11_colour_as_classes); like
    :class:`deepcolor.batches.ColorBatches`, but the targets are colour distributions.

    Yields ``((L_scaled, embedding), targets)`` or, with ``weights``, ``((L_scaled, embedding),
    targets, pixel_weights)``: L_scaled (b, S, S, 1) float32 in [0, 1] (L / 100) at S =
    ``input_size``; embedding (b, 1000) float32; targets (b, S/2, S/2, Q) float32, the soft
    encoding (``k`` nearest bins, Gaussian of ``sigma``) of the ab resized to S/2 with
    :func:`deepcolor.resize.resize_images`; pixel_weights (b, S/2, S/2) float32, ``weights`` of
    each pixel's nearest bin, Keras' ``sample_weight``.
    dataset: a LabDataset; embeddings: (len(dataset), 1000); bins: (Q, 2); weights: (Q,) or None.
    With ``shuffle`` the order is drawn from ``seed`` and the epoch number (:meth:`set_epoch`).
    pad: as for ColorBatches (under JAX): every batch has ``batch_size`` rows and weights, a short
    last batch padded with zeros and its weights scaled by :func:`deepcolor.shapes.padded_weights`.
    """

    def __init__(self, dataset, embeddings, indices, bins, input_size, batch_size=16,
                 weights=None, shuffle=True, seed=0, k=5, sigma=5.0, pad=False, **kwargs):
        super().__init__(**kwargs)
        self.dataset, self.bins = dataset, np.asarray(bins, np.float32)
        self.indices = np.asarray(indices, np.int64).reshape(-1)
        if self.indices.size == 0:
            raise ValueError("no images to batch: the index subset is empty")
        if embeddings is None or len(embeddings) != len(dataset) or np.shape(embeddings)[1:] != (1000,):
            raise ValueError(f"embeddings must be ({len(dataset)}, 1000), one row per dataset image, got "
                             f"{None if embeddings is None else np.shape(embeddings)}; compute them with "
                             "deepcolor.embedding_cache.dataset_embeddings(dataset, mode)")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.embeddings, self.batch_size = embeddings, int(batch_size)
        self.input_size, self.k, self.sigma = int(input_size), int(k), float(sigma)
        self.weights = None if weights is None else np.asarray(weights, np.float32)
        self.shuffle, self.seed, self.epoch, self.pad = shuffle, seed, 0, bool(pad)

    def __len__(self) -> int:
        return math.ceil(len(self.indices) / self.batch_size)

    def __getitem__(self, i):
        if not 0 <= i < len(self):
            raise IndexError(f"batch {i} out of range ({len(self)} batches)")
        order = self.indices
        if self.shuffle:
            order = np.random.default_rng([self.seed, self.epoch]).permutation(self.indices)
        idx = np.sort(order[i * self.batch_size:(i + 1) * self.batch_size])
        L, ab = self.dataset.batch(idx)
        x = resize_images(L[..., None] / np.float32(100), self.input_size, self.input_size)
        out = classifier_output_size(self.input_size)
        targets = bins_module.soft_encode(resize_images(ab, out, out), self.bins, self.k, self.sigma)
        emb = np.asarray(self.embeddings[idx], np.float32)
        pixel_weights = None if self.weights is None else self.weights[np.argmax(targets, axis=-1)]  # nearest bin
        if not self.pad:
            return ((x, emb), targets) if pixel_weights is None else ((x, emb), targets, pixel_weights)
        rows, scale = self.batch_size, padded_weights(len(idx), self.batch_size, targets.shape[1:3])
        weights = scale if pixel_weights is None else pad_rows(pixel_weights, rows) * scale
        return (pad_rows(x, rows), pad_rows(emb, rows)), pad_rows(targets, rows), weights

    def set_epoch(self, epoch: int) -> None:
        """Use the shuffle order of ``epoch`` (a resumed run replays the order it would have had)."""
        self.epoch = int(epoch)

    def on_epoch_end(self):
        self.epoch += 1


def classifier_batches(dataset, embeddings, train_idx, val_idx, head: ClassifierHead, input_size: int,
                       batch_size: int, seed: int = 0, pad: bool = False):
    """(train, val) :class:`ClassBatches` for ``head`` (notebook 11_colour_as_classes): the
    training batches shuffled from ``seed`` and, with ``head.rebalance``, weighted by the
    rebalancing weights counted over the training images; the validation batches (None when
    ``val_idx`` is None or empty) in order, unweighted, at least 16 images each.  pad: see
    :class:`ClassBatches` (:func:`deepcolor.train.training_batches` pads under JAX)."""
    bins = head.bins()
    weights = head.class_weights(dataset, train_idx, batch_size)
    train = ClassBatches(dataset, embeddings, train_idx, bins, input_size, batch_size, weights=weights,
                         seed=seed, k=head.k, sigma=head.sigma, pad=pad)
    val = None
    if val_idx is not None and len(val_idx):
        val = ClassBatches(dataset, embeddings, val_idx, bins, input_size, max(batch_size, 16),
                           shuffle=False, k=head.k, sigma=head.sigma, pad=pad)
    return train, val


def compile_classifier(model, lr: float):
    """Adam at ``lr`` and categorical cross-entropy over the Q bins (notebook
    11_colour_as_classes); per-pixel rebalancing weights come with the batches as
    ``sample_weight``.  Returns ``model``."""
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=lr),
                  loss=keras.losses.CategoricalCrossentropy())
    return model


class AnnealedColorizer:
    """A classifier seen as a regression model (notebook 11_colour_as_classes; ``deepcolor
    colorize``): ``predict([L / 100 (n, s, s, 1), embedding (n, 1000)])`` returns ab / 128
    (n, s/2, s/2, 2), the annealed mean at temperature ``T`` over ``bins`` (default
    ``ab_bins()``); ``inputs`` are the classifier's, so :func:`deepcolor.predict.predict_ab`
    resizes the lightness down and the colour up to the photo's size as for an MSE model."""

    def __init__(self, model, T: float = ZHANG_T, bins=None):
        if not 0 < T < math.inf:
            raise ValueError(f"the temperature must be a number > 0 (1 = the mean, small = near the mode; "
                             f"Zhang et al. {ZHANG_T}), got {T}")
        self.model, self.T, self.inputs = model, float(T), model.inputs
        self.bins = bins_module.ab_bins() if bins is None else np.asarray(bins, np.float32)
        if model.outputs[0].shape[-1] != len(self.bins):
            raise ValueError(f"the model outputs {model.outputs[0].shape[-1]} classes, but there are "
                             f"{len(self.bins)} bins: decode it with the bins it was trained on")

    def predict(self, inputs, verbose=0):
        probs = keras.ops.convert_to_numpy(self.model(list(inputs), training=False))
        return bins_module.annealed_mean(np.maximum(probs, 0), self.bins, self.T) / np.float32(AB_SCALE)
