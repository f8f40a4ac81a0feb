"""What notebook ``09_results`` shows beyond the results table (:func:`deepcolor.evaluation.architecture_results`):
what the paper's accuracy cannot see.
"""

from __future__ import annotations

import numpy as np

__all__ = ["accuracy_blind_spot", "headline_beside_ours"]


def headline_beside_ours(results, cfg, n_images, n_test):
    """The paper's headline (figure 20's test accuracy) beside our base model and the constant
    predictor on our test photos, with what each row's setting is (notebook 09).

    results: an :func:`deepcolor.evaluation.architecture_results` table with a "base" row;
    cfg: the :class:`deepcolor.config.Config` that made it; n_images: images in its dataset;
    n_test: images in its test split.  Returns a pandas Styler: rows paper / ours / constant,
    columns "test accuracy", "test images", "setting" (ours: what differs from figure 20, from
    :func:`deepcolor.lessons.hyperparameter_study.differs_from_paper`), captioned with the profile.
    """
    import pandas as pd

    from ..paper import HEADLINE_TEST_ACCURACY, PAPER_EPOCHS, PAPER_RESULTS
    from .figures import caption
    from ..paper import PAPER_SETTING
    from .hyperparameter_study import differs_from_paper

    fig20, p = next(r for r in PAPER_RESULTS if r.figure == 20), cfg.profile
    paper = (f"{fig20.model}, lr {fig20.lr:g}, batch {fig20.batch}, L2 {fig20.l2:g}, {PAPER_EPOCHS:,} epochs, "
             f"{PAPER_SETTING['input_size']} px, {PAPER_SETTING['images']:,} Kaggle images, ImageNet embedder")
    ours = differs_from_paper(cfg, n_images, 20, p.epochs, "base", p.lr, p.batch_size, p.l2)
    rows = {"paper, figure 20 (base)": (HEADLINE_TEST_ACCURACY, f"about {PAPER_SETTING['images'] // 5:,}", paper),
            f"ours, base ({cfg.name})": (results.loc["base", "accuracy"], f"{n_test:,}",
                                         f"differs from figure 20: {ours}"),
            "constant predictor, our test photos": (results.loc["base", "constant_baseline"], f"{n_test:,}",
                                                    "ignores the photo: max(p, 1 - p)")}
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["test accuracy", "test images", "setting"])
    return (table.style.format("{:.2%}", subset=["test accuracy"], na_rep="-")
            .set_caption(caption(cfg.name, cfg.embedding_mode, "test split")))


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
