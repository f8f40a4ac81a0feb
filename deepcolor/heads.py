"""What a network's last layer predicts, as one small value: the head.

Introduced in notebook ``11_colour_as_classes``; every run record names its head (notebook
``04_base_model``).

- :class:`Head` is the paper's head: ab at every pixel, trained with MSE.
- :class:`ClassifierHead` (a Head) is Zhang et al.'s: a distribution over the Q ab bins of
  :func:`deepcolor.ab_bins.ab_bins`, trained with a (rebalanced) cross-entropy; its fields are
  the setting (rebalancing and its lambda, the bins, the soft encoding).

A head says everything about itself that the rest of the package needs, and nothing else
translates it: :meth:`Head.to_record` / :meth:`Head.from_record` (the fields of a run record,
``{"head": "mse"}`` or ``{"head": "classify", "classify": {...}}``; a record older than heads is
an MSE run), :meth:`Head.describe` (words for messages), :meth:`Head.cli_words` (the
``deepcolor train`` options that ask for it), :meth:`Head.of` (what a caller may pass: None,
"mse", "classify" or a head) and :meth:`Head.of_model` (which kind a saved model has).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import ClassVar

import numpy as np

from . import ab_bins as bins_module

ZHANG_LAMBDA = 0.5
"""Zhang et al.'s mix of the empirical colour distribution with a uniform one (eq. 4)."""

KINDS = ("mse", "classify")


@dataclass(frozen=True)
class Head:
    """The paper's head (notebook 04): ab (S, S, 2) / 128 in [-1, 1] by tanh, trained with MSE."""

    kind: ClassVar[str] = "mse"

    def to_record(self) -> dict:
        """The fields of a run record that name this head (plain JSON values)."""
        return {"head": "mse"}

    @staticmethod
    def from_record(record: dict) -> "Head":
        """The head a run record names (``record["head"]``, and ``record["classify"]`` for a
        classifier); a record without one was written before classifiers existed: the MSE head.
        A head this deepcolor does not know, or a classifier setting it cannot read, is a
        ValueError saying so."""
        kind = record.get("head", "mse")
        if kind == "mse":
            return Head()
        setting = record.get("classify")
        if kind != "classify":
            raise ValueError(f"the run record names the head {kind!r}, which this deepcolor does not know "
                             f"(it knows {', '.join(KINDS)})")
        if not (isinstance(setting, dict) and isinstance(setting.get("rebalance"), bool)):
            raise ValueError(f"the run record names no readable classifier setting ({setting!r})")
        kept = {k: v for k, v in setting.items() if k in ClassifierHead.__dataclass_fields__ and v is not None}
        try:
            return ClassifierHead(**kept)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"the run record holds a classifier setting that cannot be read ({exc})") from None

    def describe(self) -> str:
        """This head in a few words: "MSE head", "classify head, rebalanced", "classify head, not rebalanced"."""
        return "MSE head"

    def cli_words(self) -> list:
        """The ``deepcolor train`` options that ask for this head, e.g. ["--head", "mse"]."""
        return ["--head", "mse"]

    def argument(self) -> str:
        """This head as the Python argument that asks for it, for messages: ``"mse"``."""
        return '"mse"'

    def same_as(self, other: "Head") -> bool:
        """Whether two heads train the same network: their records are equal (settings that change
        nothing, such as lambda without rebalancing, do not count)."""
        return self.to_record() == other.to_record()

    @staticmethod
    def of(value) -> "Head":
        """The head a caller asks for: None or "mse" is the paper's, "classify" Zhang et al.'s setting,
        a Head itself; anything else is a ValueError saying what to pass."""
        if value is None or value == "mse":
            return Head()
        if value == "classify":
            return ClassifierHead()
        if isinstance(value, Head):
            return value
        raise ValueError(f"head must be 'mse', 'classify' or a deepcolor.classify.ClassifierHead, got {value!r}")

    @staticmethod
    def of_model(model) -> str:
        """The kind of a Keras model's head from its output: "mse" for ab (..., 2), "classify" for
        bin probabilities (..., Q), Q > 2 (``deepcolor colorize``, notebook 11)."""
        return "mse" if model.outputs[0].shape[-1] == 2 else "classify"


@dataclass(frozen=True)
class ClassifierHead(Head):
    """Zhang et al.'s head with its setting (notebook 11_colour_as_classes); their values by default.

    rebalance: weigh each pixel's loss by :func:`deepcolor.ab_bins.rebalance_weights` of its
    nearest bin (counted over the training images), with ``lam`` (mix with a uniform
    distribution, in [0, 1]) and ``rebalance_sigma`` (Gaussian smoothing, Lab units);
    grid: side of the ab bins (:func:`deepcolor.ab_bins.ab_bins`, Q = 225 at 10);
    k, sigma: the soft encoding of the targets (:func:`deepcolor.ab_bins.soft_encode`).
    """

    kind: ClassVar[str] = "classify"
    rebalance: bool = True
    lam: float = ZHANG_LAMBDA
    rebalance_sigma: float = 5.0
    grid: int = 10
    k: int = 5
    sigma: float = 5.0

    def __post_init__(self):
        if not isinstance(self.rebalance, bool):
            raise ValueError(f"rebalance must be True or False, got {self.rebalance!r}")
        if not 0 <= self.lam <= 1:
            raise ValueError(f"lam must be in [0, 1] (1 = no rebalancing), got {self.lam}")
        for name in ("rebalance_sigma", "sigma"):
            if not 0 < getattr(self, name) < math.inf:
                raise ValueError(f"{name} must be a number > 0 (Lab units), got {getattr(self, name)}")
        q = len(self.bins())  # checks the grid
        if int(self.k) != self.k or not 1 <= self.k <= q:
            raise ValueError(f"k must be an integer in 1..Q = {q}, got {self.k}")

    def bins(self) -> np.ndarray:
        """The (Q, 2) bin centres in Lab units (:func:`deepcolor.ab_bins.ab_bins`)."""
        return bins_module.ab_bins(self.grid)

    @property
    def n_bins(self) -> int:
        """Q, the number of bins: the classifier's output channels."""
        return len(self.bins())

    def as_record(self) -> dict:
        """The setting as a run record keeps it (plain JSON values): rebalance, lam and
        rebalance_sigma (None without rebalancing, where they change nothing), grid, n_bins, k, sigma."""
        on = self.rebalance
        return {"rebalance": on, "lam": float(self.lam) if on else None,
                "rebalance_sigma": float(self.rebalance_sigma) if on else None,
                "grid": int(self.grid), "n_bins": self.n_bins, "k": int(self.k), "sigma": float(self.sigma)}

    def to_record(self) -> dict:
        return {"head": "classify", "classify": json.loads(json.dumps(self.as_record()))}

    def describe(self) -> str:
        return "classify head, " + ("rebalanced" if self.rebalance else "not rebalanced")

    def cli_words(self) -> list:
        return ["--head", "classify"] + ([] if self.rebalance else ["--no-rebalance"])

    def argument(self) -> str:
        """This head as Python, for messages: ``ClassifierHead(rebalance=False, grid=10, ...)``."""
        shown = {k: v for k, v in asdict(self).items() if not (k in ("lam", "rebalance_sigma") and not self.rebalance)}
        return "ClassifierHead(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"

    def class_weights(self, dataset, indices, batch_size: int = 16):
        """The (Q,) float32 rebalancing weights counted over images ``indices`` of ``dataset``, or
        None without rebalancing."""
        if not self.rebalance:
            return None
        bins = self.bins()
        counts = bins_module.dataset_bin_counts(dataset, indices, bins, batch_size)
        return bins_module.rebalance_weights(counts, lam=self.lam, sigma=self.rebalance_sigma, bins=bins)
