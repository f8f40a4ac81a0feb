"""Inception-ResNet-v2 embeddings: the 1000-d "what is in this photo" vector (notebook 03).

The paper feeds the colorizer a global description of the photo: the 1000 ImageNet class
probabilities that Inception-ResNet-v2 gives for the gray image.  This module computes them:

- :func:`preprocess` turns lightness ``L`` into the network's input: gray RGB in [0, 255],
  resized to 299x299, then Keras' ``preprocess_input`` (-> about [-1, 1]).  Feeding [0, 1] data to
  ``preprocess_input`` is a common bug: every pixel lands near -1 and the embedding barely changes
  from photo to photo.
- :class:`Embedder` runs the network in one of three modes (:data:`MODES`):
  ``"imagenet"`` (the paper's embedding; the weights download needs internet once),
  ``"untrained"`` (same network, seeded random weights: lets the course run offline, but the
  vector is nearly the same for every photo, so label such results "untrained"), and
  ``"none"`` (zeros: the ablation "does fusion help?").
- :func:`deepcolor.embedding_cache.dataset_embeddings` computes the embeddings of a whole
  dataset once and caches them on disk, next to the dataset.
- :func:`top_labels` shows what the ImageNet classifier "sees" in a gray photo.

Keras is imported inside the functions that need it, so importing this module is cheap.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

from .color import rgb_to_lab
from .shapes import fixed_rows, pad_rows
from .weights import (CLASS_INDEX_FILE, CLASS_INDEX_MD5, CLASS_INDEX_URL, WEIGHTS_FILE, WEIGHTS_MD5, WEIGHTS_URL,
                      WeightsUnavailableError, fetch, keras_models_dir, unavailable_message)

MODES = ("imagenet", "untrained", "none")
EMBEDDING_DIM = 1000
INPUT_SIZE = 299

_DESCRIPTIONS = {
    "imagenet": "imagenet: Inception-ResNet-v2 with ImageNet weights (the paper's embedding)",
    "untrained": (
        "untrained: random weights, results are not ImageNet features (the vector is nearly the "
        "same for every photo, so fusion adds almost nothing)"
    ),
    "none": "none: zero embedding, the fusion layer gets no information (ablation: does fusion help?)",
}


# ----------------------------------------------------------------------------- modes


def check_mode(mode: str) -> str:
    """Return ``mode`` if it is one of :data:`MODES`, else raise ValueError (notebook 03)."""
    if mode not in MODES:
        raise ValueError(f"unknown embedding mode {mode!r}: use one of {', '.join(map(repr, MODES))}")
    return mode


def is_trained(mode: str) -> bool:
    """True only for ``"imagenet"``: the one mode whose embedding means something (notebook 03)."""
    return check_mode(mode) == "imagenet"


def describe_mode(mode: str) -> str:
    """One-line caveat to print beside any result made with this mode (notebook 03)."""
    return _DESCRIPTIONS[check_mode(mode)]


# ----------------------------------------------------------------------------- input


def _check_L(L) -> np.ndarray:
    """L (N, H, W) or (N, H, W, 1) in [0, 100] -> float32 (N, H, W), clipped to [0, 100]."""
    L = np.asarray(L)
    if L.ndim == 4 and L.shape[-1] == 1:
        L = L[..., 0]
    if L.ndim != 3:
        hint = " (one image? use L[None])" if L.ndim == 2 else ""
        raise ValueError(f"expected L with shape (N, H, W) in Lab units [0, 100], got {L.shape}{hint}")
    if not (np.issubdtype(L.dtype, np.floating) or np.issubdtype(L.dtype, np.integer)):
        raise ValueError(f"L must be numeric (float in [0, 100]), got dtype {L.dtype}")
    L = L.astype(np.float32)
    if L.size:
        if not np.isfinite(L).all():
            raise ValueError("L contains NaN or inf values")
        lo, hi = float(L.min()), float(L.max())
        if lo < -1e-3 or hi > 100 + 1e-3:
            raise ValueError(
                f"L must be Lab lightness in [0, 100], got values in [{lo:.3g}, {hi:.3g}]; "
                "convert RGB photos with deepcolor.color.rgb_to_lab(rgb)[..., 0]"
            )
        if 0 < hi <= 1:
            warnings.warn(
                f"L is at most {hi:.3g}: it looks scaled to [0, 1] (L / 100) but Lab units [0, 100] "
                "are expected; pass L itself, or the embedding will be nearly constant",
                stacklevel=3,
            )
        L = np.clip(L, 0, 100)
    return L


def preprocess(L, size: int = INPUT_SIZE) -> np.ndarray:
    """Lightness -> the input Inception-ResNet-v2 expects (notebook 03).

    L: (N, H, W) float in [0, 100] (Lab lightness).  The gray image L * 2.55 in [0, 255] is
    resized to ``size`` x ``size`` (bilinear, antialiased when shrinking), copied into 3 equal
    channels and passed through ``keras.applications.inception_resnet_v2.preprocess_input``.
    Returns (N, size, size, 3) float32 in [-1, 1].
    """
    import keras
    from keras.applications.inception_resnet_v2 import preprocess_input

    L = _check_L(L)
    if len(L) == 0:
        return np.zeros((0, size, size, 3), np.float32)
    x = (L * 2.55)[..., None]  # (N, H, W, 1) in [0, 255]
    if x.shape[1:3] != (size, size):
        x = keras.ops.image.resize(
            x, (size, size), interpolation="bilinear", antialias=True, data_format="channels_last"
        )
        x = keras.ops.convert_to_numpy(x)
    x = np.repeat(np.clip(x, 0, 255), 3, axis=-1).astype(np.float32)
    return np.asarray(preprocess_input(x, data_format="channels_last"), np.float32)


# ----------------------------------------------------------------------------- untrained weights


def seed_weights(model, seed: int) -> None:
    """Overwrite every kernel with Glorot-uniform values from ``numpy.random.default_rng(seed)``.

    Glorot-uniform is what Keras' InceptionResNetV2 initialises every Conv2D and Dense kernel
    with; Keras draws it from a global random state, which differs from build to build.  Drawing
    it here from a private generator makes the weights depend on ``seed`` alone (on any backend)
    and leaves global random state untouched.  Biases and batch-norm variables start at constants.
    """
    rng = np.random.default_rng(seed)
    for var in model.trainable_weights:
        shape = tuple(var.shape)
        if len(shape) < 2:
            continue
        receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
        fan_in, fan_out = shape[-2] * receptive, shape[-1] * receptive
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        var.assign(rng.uniform(-limit, limit, shape).astype(np.float32))


# ----------------------------------------------------------------------------- embedder


class Embedder:
    """Inception-ResNet-v2 as a function from lightness to a 1000-d embedding (notebook 03).

    mode: ``"imagenet"``, ``"untrained"`` or ``"none"`` (see :data:`MODES`, :func:`describe_mode`).
    batch_size: images per forward pass.  seed: weights of the ``"untrained"`` network (the same
    seed gives the same weights and embeddings in every run).  keras_home: Keras' cache folder
    (default: ``$KERAS_HOME`` or ``~/.keras``).  weights_path: an ``.h5`` ImageNet weights file to
    use instead of Keras' cache.

    The network (about 56 M parameters) is built on first use, not here.  ``"imagenet"`` needs the
    weights file: when it is not cached and cannot be downloaded, building raises
    :class:`WeightsUnavailableError` within seconds.
    """

    def __init__(self, mode: str = "imagenet", batch_size: int = 16, seed: int = 0,
                 keras_home=None, weights_path=None):
        self.mode = check_mode(mode)
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.keras_home = keras_home
        self.weights_path = Path(weights_path) if weights_path is not None else None
        self._model = None

    def __repr__(self) -> str:
        state = "built" if self._model is not None else "not built"
        seed = f", seed={self.seed}" if self.mode == "untrained" else ""
        return f"Embedder(mode={self.mode!r}, batch_size={self.batch_size}{seed}, {state})"

    @property
    def trained(self) -> bool:
        """True in ``"imagenet"`` mode only."""
        return is_trained(self.mode)

    @property
    def model(self):
        """The Keras model (built on first access); None in mode ``"none"``."""
        return self.build()

    def build(self):
        """Build the network now (seconds on a CPU) and return it; None in mode ``"none"``."""
        if self.mode == "none" or self._model is not None:
            return self._model
        from keras.applications import InceptionResNetV2

        if self.mode == "untrained":
            model = InceptionResNetV2(include_top=True, weights=None)
            seed_weights(model, self.seed)
        else:
            path = self.weights_path
            if path is None:
                path = fetch(WEIGHTS_FILE, WEIGHTS_URL, WEIGHTS_MD5, self.keras_home, "The ImageNet weights of Inception-ResNet-v2 are")
            elif not path.is_file():
                raise WeightsUnavailableError(
                    unavailable_message(WEIGHTS_FILE, WEIGHTS_URL, path.parent,
                                         f"weights_path {path} does not exist", "The ImageNet weights are")
                )
            try:
                model = InceptionResNetV2(include_top=True, weights=str(path))
            except Exception as err:  # noqa: BLE001 - any failure to read the file means the same
                raise WeightsUnavailableError(
                    unavailable_message(WEIGHTS_FILE, WEIGHTS_URL, path.parent,
                                         f"{path} could not be loaded ({err}); delete it and retry",
                                         "The ImageNet weights are")
                ) from err
        self._model = model
        return model

    def embed(self, L, progress=None) -> np.ndarray:
        """Embeddings of gray images.

        L: (N, H, W) float in [0, 100] (Lab lightness, any H and W).  Returns (N, 1000) float32:
        softmax rows that sum to 1 (``"imagenet"``, ``"untrained"``) or zeros (``"none"``).
        progress: None, or ``progress(done, total)`` after each batch (e.g. ``deepcolor.progress.bar("embeddings")``).
        """
        L = _check_L(L)
        out = np.zeros((len(L), EMBEDDING_DIM), np.float32)
        if self.mode == "none" or len(L) == 0:
            return out
        self.embed_into(out, lambda start, stop: L[start:stop], progress)
        return out

    def embed_into(self, out, read, progress=None) -> None:
        """Fill ``out`` (N, 1000) batch by batch; ``read(start, stop)`` returns L (n, H, W) in
        [0, 100] for those rows.  progress: None or ``progress(done, total)`` (:mod:`deepcolor.progress`)."""
        import keras

        model = self.build()
        # under JAX the last batch of a pass of several is padded to the others' size: one compile of
        # the network, not two (deepcolor.shapes); a pass of one short batch keeps its own size
        rows = fixed_rows(self.batch_size) if len(out) > self.batch_size else None
        for start in range(0, len(out), self.batch_size):
            stop = min(start + self.batch_size, len(out))
            y = model.predict_on_batch(pad_rows(preprocess(read(start, stop)), rows))
            out[start:stop] = keras.ops.convert_to_numpy(y)[:stop - start]
            if progress:
                progress(stop, len(out))


# ----------------------------------------------------------------------------- labels

_DEFAULT_IMAGENET: dict = {}
_CLASS_INDEX: dict = {}


def _image_to_L(image) -> np.ndarray:
    """RGB (H, W, 3) uint8 or float in [0, 1], or L (H, W) in [0, 100] -> L (H, W) float32."""
    image = np.asarray(image)
    if image.ndim == 2:
        return image.astype(np.float32)
    if image.ndim == 3 and image.shape[-1] == 3:
        if np.issubdtype(image.dtype, np.floating) and image.size and float(image.max()) > 1.0 + 1e-6:
            raise ValueError("float RGB images must be in [0, 1]; pass uint8 for values in 0..255")
        return rgb_to_lab(image)[..., 0]
    raise ValueError(
        f"expected an RGB image (H, W, 3) or lightness L (H, W), got shape {image.shape}; "
        "convert RGBA or other formats to RGB first"
    )


def _class_index(keras_home=None) -> dict:
    """ImageNet class index {"0": [wnid, name], ...} from Keras' cache (downloaded once)."""
    key = str(keras_models_dir(keras_home))
    if key not in _CLASS_INDEX:
        path = fetch(CLASS_INDEX_FILE, CLASS_INDEX_URL, CLASS_INDEX_MD5, keras_home, "The ImageNet class names are")
        _CLASS_INDEX[key] = json.loads(Path(path).read_text())
    return _CLASS_INDEX[key]


def _decode(probs: np.ndarray, class_index: dict, k: int) -> list[tuple[str, float]]:
    """Top-k (class_name, probability), most likely first (the decoding of decode_predictions)."""
    top = np.argsort(probs, kind="stable")[::-1][:k]
    return [(class_index[str(int(i))][1], float(probs[i])) for i in top]


def top_labels(image, k: int = 5, embedder: Embedder | None = None) -> list[tuple[str, float]]:
    """The top-k ImageNet classes Inception-ResNet-v2 sees in the gray version of an image (notebook 03).

    image: RGB (H, W, 3) uint8 or float in [0, 1], or lightness L (H, W) in [0, 100].
    embedder: an ``"imagenet"`` :class:`Embedder` (default: one shared instance, built once).
    Returns [(class_name, probability), ...], most likely first.  Only meaningful with ImageNet
    weights: other modes raise ValueError.  Needs the class-name file from Keras' cache
    (downloaded once, like the weights): offline without it raises WeightsUnavailableError.
    """
    if not 1 <= int(k) <= EMBEDDING_DIM:
        raise ValueError(f"k must be between 1 and {EMBEDDING_DIM}, got {k}")
    if embedder is None:
        embedder = _DEFAULT_IMAGENET.setdefault("imagenet", Embedder("imagenet"))
    if embedder.mode != "imagenet":
        raise ValueError(
            f"top_labels needs ImageNet weights, but the embedder is in mode {embedder.mode!r}: "
            f"{describe_mode(embedder.mode)}. Use Embedder('imagenet')."
        )
    L = _image_to_L(image)
    probs = embedder.embed(L[None])[0]
    return _decode(probs, _class_index(embedder.keras_home), int(k))
