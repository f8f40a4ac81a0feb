"""The paper's published results (figures 12-20), as data.

Introduced in notebook 08_hyperparameter_study and set beside our own numbers in 09_results.

The "accuracy" the paper reports is Keras' categorical accuracy on the (H, W, 2) ab output of
an MSE model: the share of pixels where ``argmax`` over (a, b) of the prediction equals that of
the truth, i.e. whether ``a > b`` is guessed right.  Chance is about 50%.  See
``deepcolor.metrics.paper_accuracy`` and ``deepcolor.metrics.constant_baseline_accuracy``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Optional

__all__ = ["PaperResult", "PAPER_RESULTS", "HEADLINE_TEST_ACCURACY", "results_table"]


@dataclass(frozen=True)
class PaperResult:
    """One run of the paper's study.

    figure: the figure number in the paper (12-20).
    model: "base", "arch1", "arch2" or "arch3".
    lr, batch, l2: Adam learning rate, batch size, L2 regularisation factor.
    val, test: the paper's "accuracy" (a fraction in [0, 1]) on validation / test;
        None where the paper gives no number.
    note: what the paper says besides the numbers ("" when nothing).
    """

    figure: int
    model: str
    lr: float
    batch: int
    l2: float
    val: Optional[float]
    test: Optional[float]
    note: str = ""


PAPER_RESULTS: tuple[PaperResult, ...] = (
    PaperResult(12, "arch1", 0.01, 5, 0.01, 0.567035, 0.5496931),
    PaperResult(13, "arch2", 0.01, 5, 0.01, 0.5714356, 0.5394033),
    PaperResult(14, "base", 0.01, 50, 0.01, None, None, "no learning"),
    PaperResult(15, "base", 0.001, 5, 0.01, 0.5881328, 0.55679),
    PaperResult(16, "base", 0.00001, 5, 0.01, 0.52240014, 0.5577577),
    PaperResult(17, "base", 0.1, 5, 0.01, 0.49233896, 0.47044206, "loss NaN"),
    PaperResult(18, "base", 0.001, 5, 0.1, 0.57672495, 0.54632795),
    PaperResult(19, "base", 0.01, 5, 0.01, 0.584938, 0.55964506),
    PaperResult(20, "base", 0.0001, 5, 0.01, 0.57347536, 0.568752, "headline 56.88%"),
)

HEADLINE_TEST_ACCURACY = 0.568752
"""The paper's headline: test "accuracy" 56.88% of the base model (figure 20)."""


def results_table():
    """The paper's results as a pandas DataFrame (notebook 08_hyperparameter_study).

    Returns: one row per figure (9 rows), columns figure, model, lr, batch, l2, val, test, note;
    val and test are fractions in [0, 1], NaN where the paper gives no number.
    """
    import pandas as pd

    columns = [f.name for f in fields(PaperResult)]
    return pd.DataFrame([asdict(row) for row in PAPER_RESULTS], columns=columns)
