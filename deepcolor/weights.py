"""The ImageNet weights of Inception-ResNet-v2: where Keras caches them, whether they can be had
offline, and fetching them with a clear error when they cannot (notebook 03).

The weights (215 MB) and the class names download from Google's storage the first time.  Without
internet, :func:`fetch` fails within seconds with the file's name, the folder to copy it into and
the offline alternatives, instead of Keras retrying for minutes.
"""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

from . import network, settings

# The files Keras' own InceptionResNetV2(weights="imagenet") and decode_predictions download,
# with the URLs and MD5 hashes Keras uses for them.
WEIGHTS_FILE = "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5"
WEIGHTS_URL = (
    "https://storage.googleapis.com/tensorflow/keras-applications/inception_resnet_v2/" + WEIGHTS_FILE
)
WEIGHTS_MD5 = "e693bd0210a403b3192acc6073ad2e96"
CLASS_INDEX_FILE = "imagenet_class_index.json"
CLASS_INDEX_URL = "https://storage.googleapis.com/download.tensorflow.org/data/" + CLASS_INDEX_FILE
CLASS_INDEX_MD5 = "c2c37ea517e94d9795004a39431a14cb"


class WeightsUnavailableError(RuntimeError):
    """The ImageNet weights (or class names) are not cached and cannot be downloaded."""



def keras_models_dir(keras_home=None) -> Path:
    """The folder where Keras caches downloaded weights: ``<keras_home>/models`` (notebook 03).

    keras_home: a folder; by default ``$KERAS_HOME``, else ``~/.keras`` (``/tmp/.keras`` when the
    home folder is not writable), the same rule Keras follows.
    """
    if keras_home is None:
        keras_home = settings.keras_home()
    if keras_home is None:
        base = os.path.expanduser("~")
        keras_home = os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")
    home = Path(os.path.expanduser(str(keras_home)))
    if home.exists() and not os.access(home, os.W_OK):
        home = Path("/tmp/.keras")  # what keras.utils.get_file falls back to
    return home / "models"


def imagenet_weights_path(keras_home=None) -> Path:
    """Where the ImageNet weights file lives (or will live) in Keras' cache (notebook 03)."""
    return keras_models_dir(keras_home) / WEIGHTS_FILE


def weights_available(keras_home=None) -> bool:
    """True if the ImageNet weights are cached or their download host answers (notebook 03).

    Takes at most a few seconds; use it to fall back to ``mode="untrained"`` offline.  Under
    ``DEEPCOLOR_OFFLINE=1`` (:func:`deepcolor.settings.offline`) only the cache counts: no probe.
    """
    if imagenet_weights_path(keras_home).is_file():
        return True
    return not settings.offline() and network.reachable(WEIGHTS_URL)


def unavailable_message(fname: str, url: str, folder: Path, reason: str, what: str) -> str:
    return (
        f"{what} not available: {reason}.\n"
        f"Keras looks for the file\n    {fname}\nin its cache folder\n    {folder}\n"
        f"and downloads it from\n    {url}\nwhen it is missing.\n"
        f"To use it without internet here: download that URL on a machine that has internet and "
        f"copy the file into the folder above (or set the KERAS_HOME environment variable to a "
        f"folder whose models/ subfolder holds it).\n"
        f"To go on offline without it: use mode=\"untrained\" (random weights: label the results "
        f"as untrained) or mode=\"none\" (zero embedding, the no-fusion ablation)."
    )


def fetch(fname: str, url: str, md5: str, keras_home, what: str) -> Path:
    """Path of a Keras-cached download, fetching it if needed; WeightsUnavailableError if that fails
    (offline, within seconds and before Keras is imported)."""
    folder = keras_models_dir(keras_home)
    if not (folder / fname).is_file():
        host = urllib.parse.urlsplit(url).hostname
        if settings.offline():
            reason = f"the file is not cached and {settings.OFFLINE_ENV}=1 forbids downloading it"
            raise WeightsUnavailableError(unavailable_message(fname, url, folder, reason, what))
        if not network.reachable(url):
            reason = f"the file is not cached and {host} cannot be reached (no internet?)"
            raise WeightsUnavailableError(unavailable_message(fname, url, folder, reason, what))
    import keras

    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = keras.utils.get_file(fname, url, cache_subdir="models", file_hash=md5,
                                    cache_dir=str(folder.parent))
    except Exception as err:  # noqa: BLE001 - get_file raises bare Exception on fetch failures
        raise WeightsUnavailableError(
            unavailable_message(fname, url, folder, f"the download failed ({err})", what)
        ) from err
    return Path(path)


