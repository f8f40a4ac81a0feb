"""What notebook ``09_results`` shows beyond the results table (:func:`deepcolor.evaluation.architecture_results`):
what the paper's accuracy cannot see.
"""

from __future__ import annotations

import numpy as np

__all__ = ["accuracy_blind_spot"]


def accuracy_blind_spot(ab_true):
    """What the paper's accuracy does and does not see, on the true colours ``ab_true``
    (N, H, W, 2) in Lab units (notebook 09).  Returns (table, predictions): a DataFrame indexed
    by predictor with accuracy, ab_mse and auc, and those predictions, (N, H, W, 2) Lab units:

    - "truth"; "gray (ab = 0)", which scores p, the share of pixels with a >= b;
    - "right side, wrong colour": (100, -100) where a >= b, else (-100, 100): 100% accuracy;
    - "truth, a and b swapped where |a - b| < 5": nearly the right colour, yet far less accuracy.
    """
    import pandas as pd

    from ..metrics import ab_mse, auc, gray_prediction, paper_accuracy

    ab_true = np.asarray(ab_true, np.float32)
    a_side = np.argmax(ab_true, -1)[..., None] == 0
    near = np.abs(ab_true[..., :1] - ab_true[..., 1:]) < 5
    preds = {"truth": ab_true, "gray (ab = 0)": gray_prediction(ab_true),
             "right side, wrong colour": np.where(a_side, [100.0, -100.0], [-100.0, 100.0]).astype(np.float32),
             "truth, a and b swapped where |a - b| < 5": np.where(near, ab_true[..., ::-1], ab_true)}
    table = pd.DataFrame([{"accuracy": paper_accuracy(ab_true, p), "ab_mse": ab_mse(ab_true, p),
                           "auc": auc(ab_true, p)} for p in preds.values()], index=pd.Index(preds, name="predictor"))
    return table, preds
