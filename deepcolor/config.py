"""Profiles: one switch, ``DEEPCOLOR_PROFILE``, sets data, sizes, epochs and embedder everywhere.

Introduced in notebook ``00_start_here``; every notebook's first cell calls :func:`load`.

- ``smoke``: CI and a quick look on any laptop CPU.  The built-in sample (a few dozen images),
  32x32 inputs, two epochs (one per study run), the *untrained* embedder.  Its numbers show that
  the code runs, not what the models can do.
- ``default``: a student with internet.  A Kaggle subset at 96x96, ImageNet embeddings, minutes on
  a laptop GPU; the notebooks that train many models (08's study, 11's three) at 64x64 and one
  epoch per study run, so that each notebook fits a lesson on a laptop CPU.  Offline it falls
  back to the sample (as profile ``default-offline``) and the untrained embedder, and says so in a
  banner.
- ``full``: the paper's grid of runs on a GPU: all 25,000 Kaggle images at 224x224, 20 epochs a run
  (the paper trained 2,500: ``deepcolor.paper.PAPER_EPOCHS``), so not the paper's study itself.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import __version__, settings, weights
from .backend import start
from .embedding_cache import dataset_embeddings
from .paper import PAPER_GRID
from .progress import bar
from .settings import KAGGLE_ENV, PROFILE_ENV

# data and kaggle are imported where they are used: `deepcolor --help` imports this module (and train
# imports Keras).


@dataclass(frozen=True)
class Profile:
    """Everything a profile decides.  ``n_images`` 0 means the whole dataset."""

    name: str
    data: str  # "sample" or "kaggle"
    n_images: int
    input_size: int
    epochs: int
    batch_size: int
    lr: float
    l2: float
    embedding_mode: str  # "imagenet", "untrained" or "none"
    study: tuple = PAPER_GRID  # paper.StudyRun runs: the paper's figures 12-20
    study_epochs: int = 1
    study_input_size: int = 0  # of the notebooks that train many models (08, 11); 0: input_size
    seed: int = 0
    note: str = ""


PROFILES = {
    "smoke": Profile(
        "smoke", data="sample", n_images=32, input_size=32, epochs=2, batch_size=8, lr=1e-3, l2=0.0,
        embedding_mode="untrained", study_epochs=1,
        note="smoke profile: 32 sample crops + 3 held-out crops per photo at 32x32, 2 epochs, untrained embedder - "
             "numbers show the code runs, they are not results",
    ),
    "default": Profile(
        # Ours, so that every notebook fits a lesson on a 2-core laptop CPU (benchmarks/RESULTS.md):
        # 96x96 (at 128x128 notebook 04 alone took 12 minutes, the course 87); notebook 08's nine runs
        # and notebook 11's three at 64x64, one epoch per study run (at 3, 08 alone took over an hour).
        "default", data="kaggle", n_images=2000, input_size=96, epochs=5, batch_size=16, lr=1e-3,
        l2=0.0, embedding_mode="imagenet", study_epochs=1, study_input_size=64,
        note="default profile: 2,000 Kaggle images at 96x96 (64x64 in notebooks 08 and 11), 5 epochs, "
             "ImageNet embeddings",
    ),
    "full": Profile(
        "full", data="kaggle", n_images=0, input_size=224, epochs=20, batch_size=5, lr=1e-4, l2=0.01,
        embedding_mode="imagenet", study_epochs=20,
        note="full profile: the paper's grid at the paper's image size (25,000 Kaggle images at 224x224), "
             "20 epochs per run where the paper trained 2,500",
    ),
}

HELD_OUT_CROPS = 3
"""Crops per photo that the built-in sample cuts from the strip no training crop touches: the
``test_seen`` images of the training photos (:mod:`deepcolor.sample`).  Ours."""

# Used by `default` when the Kaggle data or the ImageNet weights cannot be had.  Ours: chosen so
# that the base model learns the colours of the photos it trains on (it beats the gray and mean-ab
# baselines on split.test_seen; benchmarks/RESULTS.md) and the whole offline course stays short.
# At 64x64 and 5 epochs it only learned the mean colour; at 32x32 its loss leaves that plateau
# after about 30 epochs (210 steps of 8 images).  100 epochs beat the baselines by more (PSNR 21.9
# against gray's 21.5 dB), but took the offline course to 17 minutes on 2 cores; 70 take it under 15.
OFFLINE_FALLBACK = {"data": "sample", "n_images": 96, "input_size": 32, "epochs": 70, "batch_size": 8,
                    "embedding_mode": "untrained", "study_input_size": 32}


@dataclass
class Config:
    """A resolved profile: what this machine will actually use, and why (``fallbacks``)."""

    profile: Profile
    kaggle_dir: Path | None = None
    fallbacks: list = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.profile.name

    @property
    def embedding_mode(self) -> str:
        return self.profile.embedding_mode

    def for_study(self) -> "Config":
        """This configuration at the profile's ``study_input_size``: what notebooks 08 (the paper's
        grid, nine runs) and 11 (three models side by side) train at.  The same profile otherwise;
        its runs are told apart from the others' by their input size."""
        size = self.profile.study_input_size or self.profile.input_size
        return replace(self, profile=replace(self.profile, input_size=size), fallbacks=list(self.fallbacks))

    def banner(self) -> str:
        """Text to show at the top of a notebook: the profile, and any fallback or caveat."""
        lines = [f"Profile: {self.profile.name}. {self.profile.note}"]
        lines += [f"OFFLINE FALLBACK: {reason}" for reason in self.fallbacks]
        if self.profile.embedding_mode == "untrained":
            lines.append("Embeddings: UNTRAINED (random weights): results made here are not the paper's setting.")
        return "\n".join(lines)

    def dataset(self, progress=None):
        """The profile's dataset (sample or Kaggle subset) as a LabDataset (notebook 02)."""
        from . import data

        if self.profile.data == "sample":
            return data.sample(n=self.profile.n_images, seed=self.profile.seed, progress=progress,
                               held_out=HELD_OUT_CROPS)
        ds = data.load_kaggle(self.kaggle_dir)
        return ds.subset(self.profile.n_images)

    def split(self, dataset):
        """The paper's 60/20/20 split of ``dataset`` with the profile's seed; by source photo where the
        dataset names them (the sample's crops), so that no photo is in two parts, and with the
        sample's held-out crops of the training photos as ``split.test_seen`` (notebook 02)."""
        from .data import split

        return split(len(dataset), seed=self.profile.seed, groups=dataset.groups, held_out=dataset.held_out)

    def embeddings(self, dataset, progress=None, embedder=None):
        """(len(dataset), 1000) embeddings in the profile's mode, cached next to the dataset (notebook 03).
        progress: ``progress(done, total)``; by default a bar (:func:`deepcolor.progress.bar`).
        embedder: an :class:`deepcolor.embeddings.Embedder` of the profile's mode already built, to reuse."""
        progress = progress or bar(f"embeddings ({self.profile.embedding_mode})")
        return dataset_embeddings(dataset, self.profile.embedding_mode, progress=progress, embedder=embedder)

    def train_config(self, arch: str, **overrides):
        """A :class:`deepcolor.train.TrainConfig` with the profile's sizes, for ``arch``."""
        from .train import TrainConfig

        p = self.profile
        values = dict(arch=arch, lr=p.lr, batch_size=p.batch_size, epochs=p.epochs, l2=p.l2,
                      seed=p.seed, input_size=p.input_size)
        return TrainConfig(**{**values, **overrides})


    def train_or_load(self, arch: str, dataset, embeddings, split, verbose="auto", runs_dir=None, head=None,
                      **overrides):
        """Train ``arch`` under this profile, or reuse an identical finished run (notebooks 04-11).
        Run folders go under ``runs_dir`` (default :func:`deepcolor.runs.default_runs_dir`).
        head: None for the paper's MSE model, or a :class:`deepcolor.classify.ClassifierHead`
        (notebook 11_colour_as_classes).  Returns the :class:`deepcolor.runs.Run`."""
        from .train import train_or_load

        return train_or_load(dataset, embeddings, split, self.train_config(arch, **overrides),
                             embedding_mode=self.embedding_mode, profile=self.name, runs_dir=runs_dir,
                             verbose=verbose, head=head)


def profile_name(name: str | None = None) -> str:
    name = name or settings.profile() or "default"
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r} (from {PROFILE_ENV}?): use one of {', '.join(PROFILES)}")
    return name


def load(name: str | None = None, download: bool = True) -> Config:
    """Resolve a profile (default: ``$DEEPCOLOR_PROFILE``, else ``default``) on this machine.

    ``default`` uses a local Kaggle copy (:func:`deepcolor.kaggle.find_local_kaggle`); without one,
    and with ``download`` (the default), it downloads the files it needs itself when Kaggle
    answers (:func:`deepcolor.kaggle.fetch_kaggle`: ``l/gray_scale.npy`` and ``ab/ab/ab1.npy``,
    about 2.26 GB, once, into kagglehub's cache).  It uses the ImageNet weights if Keras has them
    or can get them.  Otherwise (offline, ``DEEPCOLOR_OFFLINE=1``, a refusal, a full disk) it
    falls back to the sample and untrained embeddings within seconds, and lists why in
    ``fallbacks``.  ``full`` never falls back: it raises with what is missing.  Notebook ``00_start_here``.
    """
    profile = PROFILES[profile_name(name)]
    config = Config(profile)
    weights_probe = None
    if profile.embedding_mode == "imagenet":  # probed beside Kaggle's host: offline, both answer in one timeout
        pool = ThreadPoolExecutor(1)
        weights_probe = pool.submit(weights.weights_available)
        pool.shutdown(wait=False)  # the probe runs on; its answer is read below
    if profile.data == "kaggle":
        from .kaggle import KaggleUnavailableError, fetch_kaggle, files_for, find_local_kaggle

        config.kaggle_dir = find_local_kaggle(profile.n_images)
        why = f"Kaggle data not found (set {KAGGLE_ENV} to its folder, or run `deepcolor data kaggle`)"
        if config.kaggle_dir is None and download:
            try:
                config.kaggle_dir = fetch_kaggle(files_for(profile.n_images))
            except KaggleUnavailableError as exc:
                why = f"Kaggle data not found and not downloaded: {exc}"
        if config.kaggle_dir is None:
            config.fallbacks.append(f"{why}. Using the built-in sample instead")
    weights_missing = False
    if weights_probe is not None:
        weights_missing = not weights_probe.result()
        if weights_missing:
            why = f"{settings.OFFLINE_ENV}=1 forbids downloading them" if settings.offline() else "cannot be downloaded"
            config.fallbacks.append(f"ImageNet weights for Inception-ResNet-v2 are not in Keras' cache and {why}: "
                                    "using the untrained embedder instead")
    if config.fallbacks and profile.name == "full":
        raise RuntimeError("the full profile needs the Kaggle data and ImageNet weights: " + "; ".join(config.fallbacks))
    if config.kaggle_dir is None and profile.data == "kaggle":
        fb = OFFLINE_FALLBACK
        photos = f"{fb['n_images']} built-in sample crops + {HELD_OUT_CROPS} held-out crops per photo"
        note = (f"{profile.name} profile, OFFLINE: {photos} at {fb['input_size']}x{fb['input_size']}, "
                f"{fb['epochs']} epochs of batch {fb['batch_size']}")
        # a new name, so tables, captions and run records never pass these off as the profile's
        profile = replace(profile, name=f"{profile.name}-offline", data="sample", n_images=fb["n_images"],
                          input_size=fb["input_size"], epochs=fb["epochs"], batch_size=fb["batch_size"],
                          study_input_size=fb["study_input_size"], note=note)
    if weights_missing:
        profile = replace(profile, embedding_mode=OFFLINE_FALLBACK["embedding_mode"])
    config.profile = profile
    return config


def environment() -> dict:
    """Backend, devices, versions and Keras' precision, for the first cell of every notebook.  Starts Keras quietly
    (:func:`deepcolor.backend.start`): the backend's C++ start-up lines are not shown."""
    keras = start()

    backend = keras.backend.backend()
    devices = ["cpu"]
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            devices = [d.name for d in tf.config.list_logical_devices()]
        elif backend == "jax":
            import jax

            devices = [str(d) for d in jax.devices()]
        elif backend == "torch":
            import torch

            devices = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] or ["cpu"]
    except Exception as exc:  # device probing must never stop a notebook
        devices = [f"unknown ({exc})"]
    return {"deepcolor": __version__, "backend": backend, "keras": keras.__version__, "devices": devices,
            "precision": keras.config.dtype_policy().name}


def show(config: Config) -> None:
    """Print the banner and the environment (the first cell of every notebook)."""
    env = environment()
    print(config.banner())
    precision = "" if env["precision"] == "float32" else f" | precision {env['precision']} ($DEEPCOLOR_PRECISION)"
    print(f"deepcolor {env['deepcolor']} | Keras {env['keras']} | backend {env['backend']} | "
          f"devices: {', '.join(env['devices'])}{precision}")
