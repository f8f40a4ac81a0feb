"""The rebalanced AuC (Zhang et al. 2016) on real photos, and the paper accuracy's scale blindness."""

import numpy as np
import pytest
from skimage import data

from deepcolor import ab_bins as abb
from deepcolor import metrics
from deepcolor.color import rgb_to_lab


@pytest.fixture(scope="module")
def photos_ab():
    """coffee, chelsea and astronaut cropped to 256 x 256 (every 2nd pixel): (3, 128, 128, 2) ab."""
    rgbs = [img[:256, :256][::2, ::2] for img in (data.coffee(), data.chelsea(), data.astronaut())]
    return rgb_to_lab(np.stack(rgbs))[..., 1:]


def _own_weights(ab):
    bins = abb.ab_bins()
    return abb.pixel_weights(abb.rebalance_weights(abb.bin_counts(ab, bins), bins=bins), bins)


def test_rebalanced_auc_is_one_for_a_perfect_prediction(photos_ab):
    assert metrics.rebalanced_auc(photos_ab, photos_ab, _own_weights(photos_ab)) == pytest.approx(1.0)
    assert metrics.rebalanced_auc(photos_ab, photos_ab) == pytest.approx(1.0)   # default weights


def test_rebalanced_auc_punishes_gray_more_than_plain_auc(photos_ab):
    gray = metrics.gray_prediction(photos_ab)
    plain = metrics.auc(photos_ab, gray)
    rebalanced = metrics.rebalanced_auc(photos_ab, gray, _own_weights(photos_ab))
    assert 0 < rebalanced < plain - 0.02
    assert metrics.rebalanced_auc(photos_ab, gray) == pytest.approx(rebalanced)  # None = own counts


def test_rebalanced_auc_with_equal_weights_is_plain_auc(photos_ab):
    pred = np.roll(photos_ab, 5, axis=2)
    equal = metrics.rebalanced_auc(photos_ab, pred, lambda ab: np.ones(ab.shape[:-1]))
    assert equal == pytest.approx(metrics.auc(photos_ab, pred), abs=1e-12)


def test_rebalanced_auc_by_hand():
    ab_true = np.zeros((1, 1, 2, 2), np.float32)
    ab_pred = np.array([[[[0, 0], [0, 200]]]], np.float32)          # errors 0 and > 150
    weights = np.array([[[1.0, 3.0]]])
    assert metrics.rebalanced_auc(ab_true, ab_pred, lambda ab: weights) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="weights_of"):
        metrics.rebalanced_auc(ab_true, ab_pred, lambda ab: np.ones(3))


@pytest.mark.parametrize("scale", [1e-3, 0.5, 2.0, 128.0])
def test_paper_accuracy_ignores_positive_scaling(photos_ab, scale):
    pred = np.roll(photos_ab, 7, axis=1) + np.float32(3.0)
    assert metrics.paper_accuracy(photos_ab, pred * np.float32(scale)) == metrics.paper_accuracy(photos_ab, pred)
