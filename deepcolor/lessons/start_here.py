"""What notebook ``00_start_here`` shows: this machine's setup under a profile, and the
profiles side by side.
"""

from __future__ import annotations

import pandas as pd

from .. import config, embeddings, settings, weights
from ..data import find_local_kaggle
from ..paper import PAPER_SETTING, differs_from_paper

__all__ = ['environment_check', 'profiles_table']


def environment_check(cfg) -> pd.DataFrame:
    """What this machine will use under profile ``cfg`` (a :class:`deepcolor.config.Config`)
    as a two-column table (item, value): profile, backend, devices, versions, data source,
    whether a Kaggle copy and the ImageNet weights are here, the sample cache and any fallback
    (notebook 00_start_here).  Probing the weights' host takes at most a few seconds offline."""
    env = config.environment()
    kaggle = cfg.kaggle_dir or find_local_kaggle()
    weights_file = weights.imagenet_weights_path()
    if weights_file.is_file():
        weights_state = f"cached: {weights_file}"
    elif weights.weights_available():
        weights_state = f"not cached; downloadable on first use into {weights_file.parent}"
    else:
        why = f"{settings.OFFLINE_ENV} is set" if settings.offline() else "no internet?"
        weights_state = f"not cached and cannot be downloaded here ({why}); expected at {weights_file}"
    p = cfg.profile
    rows = [
        ("profile", f"{p.name}: {p.note}"),
        ("backend", env["backend"]),
        ("devices", ", ".join(env["devices"])),
        ("versions", f"deepcolor {env['deepcolor']}, Keras {env['keras']}"),
        ("data used", f"{p.data}, {p.n_images or 'all'} images, trained at {p.input_size}x{p.input_size}"),
        ("Kaggle copy", str(kaggle) if kaggle else f"not found (with internet, `config.load()` downloads it; or set {config.KAGGLE_ENV})"),
        ("built-in sample cache", str(settings.deepcolor_home())),
        ("ImageNet weights", weights_state),
        ("embedding mode", embeddings.describe_mode(p.embedding_mode)),
        ("fallbacks", "; ".join(cfg.fallbacks) or "none"),
    ]
    return pd.DataFrame(rows, columns=["item", "value"]).set_index("item")


def profiles_table() -> pd.DataFrame:
    """The three profiles of :data:`deepcolor.config.PROFILES`, one row each (notebook 00), with
    what a study run of each differs in from the paper's runs (2,500 epochs, 224 px, 25,000 Kaggle
    images, ImageNet: :func:`deepcolor.paper.differs_from_paper`)."""
    def differs(p):
        images = p.n_images or PAPER_SETTING["images"]  # 0: the whole Kaggle set
        return differs_from_paper(config.Config(p), images, None, p.study_epochs)

    rows = {name: {"data": p.data, "images": p.n_images or "all", "input size": p.input_size,
                   "epochs": p.epochs, "batch": p.batch_size, "lr": p.lr, "l2": p.l2,
                   "embeddings": p.embedding_mode, "study epochs": p.study_epochs,
                   "a study run differs from the paper's in": differs(p), "what for": p.note}
            for name, p in config.PROFILES.items()}
    return pd.DataFrame.from_dict(rows, orient="index")
