"""Quantised ab colour (Zhang et al. 2016) against scikit-image and hand-computed cases."""

import warnings

import numpy as np
import pytest
from skimage import color as skcolor

from deepcolor import ab_bins as abb
from deepcolor.data import LabDataset

BINS = abb.ab_bins()


def test_bins_grid_and_count():
    assert BINS.shape == (225, 2) and BINS.dtype == np.float32  # Zhang et al. report 313: see docstring
    assert np.all(BINS % 10 == 0) and np.all(np.abs(BINS) <= 110)
    assert len(np.unique(BINS, axis=0)) == len(BINS)
    assert [0, 0] in BINS.tolist()
    assert abb.ab_bins() is BINS                                   # cached
    with pytest.raises(ValueError, match="grid"):
        abb.ab_bins(0)


def _round_trip_error(lab):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                            # scikit-image warns when it clips
        return np.abs(skcolor.rgb2lab(skcolor.lab2rgb(lab)) - lab).max(axis=-1)


def test_every_bin_is_in_gamut_by_the_scikit_image_round_trip():
    L = np.arange(0.0, 101.0, 1.0)
    lab = np.concatenate([np.broadcast_to(L[:, None, None], (len(L), len(BINS), 1)),
                          np.broadcast_to(BINS[None].astype(np.float64), (len(L), len(BINS), 2))], -1)
    best = _round_trip_error(lab).min(axis=0)                      # (Q,): the best lightness per bin
    assert best.max() < 0.01
    # and the bins left out fail the round trip at every lightness (the oracle agrees both ways)
    grid = np.arange(-110, 111, 10.0)
    all_ab = np.stack(np.meshgrid(grid, grid, indexing="ij"), -1).reshape(-1, 2)
    out = np.array([p for p in all_ab if p.tolist() not in BINS.tolist()])
    lab_out = np.concatenate([np.broadcast_to(L[:, None, None], (len(L), len(out), 1)),
                              np.broadcast_to(out[None], (len(L), len(out), 2))], -1)
    assert _round_trip_error(lab_out).min(axis=0).min() > 0.01


def test_in_gamut_matches_scikit_image_rgb():
    rgb = np.random.default_rng(0).uniform(0, 1, (500, 3))
    assert abb.in_gamut(skcolor.rgb2lab(rgb), tol=1e-6).all()
    assert not abb.in_gamut(np.array([[50.0, 110.0, -110.0], [0.0, 50.0, 0.0]])).any()
    assert abb.in_gamut(np.array([50.0, 10.0, 10.0])) and abb.in_gamut(np.zeros((2, 0, 3))).shape == (2, 0)


def test_in_gamut_is_not_fooled_by_clipping():
    """RGB a hair outside [0, 1] (what lab2rgb would clip back in) is out of gamut, a hair inside is in."""
    rgb = np.random.default_rng(5).uniform(0.2, 0.8, (300, 3))
    channel = np.arange(len(rgb)) % 3
    for value, inside in [(1.002, False), (-0.002, False), (0.998, True), (0.002, True)]:
        edge = rgb.copy()
        edge[np.arange(len(rgb)), channel] = value
        assert (abb.in_gamut(skcolor.rgb2lab(edge)) == inside).all()


def test_the_bins_kept_per_grid_have_not_changed():
    """How many centres are in gamut at some lightness, for a few grids (225 at Zhang et al.'s 10)."""
    assert {g: len(abb.ab_bins(g)) for g in (5, 10, 20, 55)} == {5: 891, 10: 225, 20: 57, 55: 8}


def test_nearest_bins_by_hand():
    bins = np.array([[0, 0], [10, 0], [0, 10]], np.float32)
    idx, dist = abb.nearest_bins(np.array([[[1.0, 0.0], [0.0, 9.0]]]), bins, 2)
    assert idx.shape == (1, 2, 2) and idx.tolist() == [[[0, 1], [2, 0]]]
    np.testing.assert_allclose(dist, [[[1, 9], [1, 9]]], atol=1e-5)
    with pytest.raises(ValueError, match="k must be"):
        abb.nearest_bins(np.zeros((1, 2)), bins, 4)


def _every_bin(ab, bins, k):
    """The oracle: squared distances to all Q bins, sorted by distance, then by bin index."""
    d2 = np.sum((ab[:, None, :].astype(np.float64) - bins[None].astype(np.float64)) ** 2, -1)
    order = np.lexsort((np.broadcast_to(np.arange(len(bins)), d2.shape), d2), axis=-1)[:, :k]
    return order, np.take_along_axis(d2, order, 1)


@pytest.mark.parametrize("k", [1, 5, 25, 26])
def test_nearest_bins_agrees_with_measuring_every_bin(k, monkeypatch):
    """In gamut, out of gamut, beyond the grid's edge, on integer ab (ties everywhere), and for bins
    that lie on no grid: the same bins as measuring all Q, equally distant ones by index."""
    monkeypatch.setattr(abb, "CHUNK_PIXELS", 500)                  # several chunks
    rng = np.random.default_rng(4)
    ab = np.concatenate([rng.uniform(-60, 60, (1500, 2)), rng.uniform(-130, 130, (1500, 2)),
                         rng.normal(0, 400, (200, 2)), rng.integers(-128, 128, (1500, 2))]).astype(np.float32)
    off_grid = BINS[::3] + rng.uniform(-2, 2, BINS[::3].shape).astype(np.float32)
    for bins in (BINS, off_grid):
        want_idx, want_d2 = _every_bin(ab, bins, k)
        idx, dist = abb.nearest_bins(ab, bins, k)
        assert idx.dtype == np.int64 and dist.dtype == np.float32 and idx.shape == dist.shape == (len(ab), k)
        np.testing.assert_array_equal(idx, want_idx)
        np.testing.assert_allclose(dist.astype(np.float64) ** 2, want_d2, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("k", [1, 5])
def test_a_batch_of_8_bit_colours_gets_the_same_bins_as_measuring_every_bin(k):
    """Integer ab of an 8-bit dataset, more pixels than one chunk (the case looked up in the table of
    all 65,536 integer colours): the same bins and distances as measuring all Q; a batch with one
    colour off the integers, or beyond -128..127, gets the same answers for its integer pixels."""
    rng = np.random.default_rng(7)
    ab = rng.integers(-128, 128, (2, 200, 200, 2)).astype(np.float32)
    want_idx, want_d2 = _every_bin(ab.reshape(-1, 2), BINS, k)
    idx, dist = abb.nearest_bins(ab, BINS, k)
    assert idx.shape == dist.shape == (2, 200, 200, k)
    np.testing.assert_array_equal(idx.reshape(-1, k), want_idx)
    np.testing.assert_allclose(dist.reshape(-1, k).astype(np.float64) ** 2, want_d2, rtol=1e-4, atol=1e-3)
    for odd in (0.5, 200.0):
        other = ab.copy()
        other[0, 0, 0, 0] = odd
        other_idx, other_dist = abb.nearest_bins(other, BINS, k)
        np.testing.assert_array_equal(other_idx.reshape(-1, k)[1:], idx.reshape(-1, k)[1:])
        np.testing.assert_array_equal(other_dist.reshape(-1, k)[1:], dist.reshape(-1, k)[1:])


def test_equally_distant_bins_come_in_index_order(monkeypatch):
    """a = 5 is halfway between the bins a = 0 and a = 10; (5, 5) is as far from four bins; a tie at
    the k-th place keeps the lower indices, even when it reaches past the bins first looked up."""
    where = {tuple(b): i for i, b in enumerate(BINS.tolist())}
    idx, dist = abb.nearest_bins(np.array([[5.0, 0.0], [-5.0, 0.0], [5.0, 5.0]]), BINS, 1)
    assert idx[:, 0].tolist() == [where[0, 0], where[-10, 0], where[0, 0]]
    np.testing.assert_allclose(dist[:, 0], [5, 5, np.sqrt(50)], rtol=1e-6)
    monkeypatch.setattr(abb, "TIE_MARGIN", 0)                       # the 4-way tie must look further
    idx, _ = abb.nearest_bins(np.array([[5.0, 5.0], [0.0, 0.0]]), BINS, 2)
    assert idx.tolist() == [[where[0, 0], where[0, 10]], [where[0, 0], where[-10, 0]]]
    np.testing.assert_array_equal(abb.nearest_bins(BINS, BINS, len(BINS))[0][:, 0], np.arange(len(BINS)))


def test_nearest_bins_refuses_nan():
    with pytest.raises(ValueError, match="finite"):
        abb.nearest_bins(np.array([[np.nan, 0.0]]), BINS, 1)


def test_soft_encode_rows_sum_to_one_and_peak_at_the_nearest_bin(monkeypatch):
    monkeypatch.setattr(abb, "CHUNK_PIXELS", 100)                  # several chunks
    ab = np.random.default_rng(1).uniform(-60, 60, (3, 9, 7, 2)).astype(np.float32)
    z = abb.soft_encode(ab, BINS)
    assert z.shape == (3, 9, 7, len(BINS)) and z.dtype == np.float32
    np.testing.assert_allclose(z.sum(-1), 1.0, atol=1e-5)
    assert np.all((z > 0).sum(-1) == 5)
    nearest = np.argmin(np.sum((ab[..., None, :] - BINS) ** 2, -1), -1)
    assert np.array_equal(np.argmax(z, -1), nearest)


def test_soft_encode_weights_are_gaussian():
    bins = np.array([[0, 0], [10, 0]], np.float32)
    z = abb.soft_encode(np.array([[3.0, 0.0]]), bins, k=2, sigma=5.0)
    w = np.exp(-np.array([3.0, 7.0]) ** 2 / 50)
    np.testing.assert_allclose(z[0], w / w.sum(), rtol=1e-5)


def test_bin_counts_and_dataset_bin_counts():
    rng = np.random.default_rng(2)
    ab = rng.uniform(-50, 50, (4, 8, 8, 2)).astype(np.float32)
    counts = abb.bin_counts(ab, BINS)
    assert counts.dtype == np.int64 and counts.shape == (len(BINS),) and counts.sum() == 4 * 64
    ds = LabDataset.from_arrays(rng.uniform(20, 80, (4, 8, 8)), ab)
    _, ab8 = ds.batch(np.arange(4))                                 # what the 8-bit dataset holds
    assert np.array_equal(abb.dataset_bin_counts(ds, np.arange(4), BINS, batch_size=3),
                          abb.bin_counts(ab8, BINS))


@pytest.mark.parametrize("smooth", [False, True])
def test_rebalance_weights_are_normalised_and_favour_rare_bins(smooth):
    counts = np.zeros(len(BINS), np.int64)
    counts[:20] = np.arange(20, 0, -1) * 100                        # bin 0 most common, then fewer
    bins = BINS if smooth else None
    w = abb.rebalance_weights(counts, lam=0.5, sigma=5.0, bins=bins)
    assert w.shape == (len(BINS),) and w.dtype == np.float32 and np.all(w > 0)
    p = counts / counts.sum()
    if smooth:
        G = np.exp(-np.sum((BINS[:, None] - BINS[None]) ** 2, -1) / 50.0)
        p = G @ p / (G @ p).sum()
    assert np.sum(p * w) == pytest.approx(1.0, rel=1e-5)
    assert np.all(np.diff(w[np.argsort(-p, kind="stable")]) >= 0)  # rarer (smoothed) bins weigh more
    assert w[np.argmax(p)] < w[np.argmin(p)]
    if not smooth:
        assert np.all(np.diff(w[:20]) > 0)


def test_rebalance_weights_lam_one_is_uniform_and_bad_input_fails():
    w = abb.rebalance_weights(np.arange(1, len(BINS) + 1), lam=1.0)
    np.testing.assert_allclose(w, 1.0, rtol=1e-5)
    with pytest.raises(ValueError, match="positive sum"):
        abb.rebalance_weights(np.zeros(len(BINS)))
    with pytest.raises(ValueError, match="lam"):
        abb.rebalance_weights(np.ones(len(BINS)), lam=2)


def test_pixel_weights_looks_up_the_nearest_bin():
    w = np.arange(len(BINS), dtype=np.float32)
    weights_of = abb.pixel_weights(w, BINS)
    ab = BINS[[3, 7]] + 1.0
    assert weights_of(ab[None]).tolist() == [[3.0, 7.0]]


def test_annealed_mean_t1_is_the_expectation_and_small_t_the_mode():
    rng = np.random.default_rng(3)
    probs = rng.dirichlet(np.ones(len(BINS)), size=(2, 5))          # (2, 5, Q)
    top = np.argmax(probs, -1)[..., None]
    np.put_along_axis(probs, top, 1.2 * np.take_along_axis(probs, top, -1), -1)  # a clear mode
    probs /= probs.sum(-1, keepdims=True)
    np.testing.assert_allclose(abb.annealed_mean(probs, BINS, 1.0), probs @ BINS, atol=1e-3)
    mode = BINS[np.argmax(probs, -1)]
    np.testing.assert_allclose(abb.annealed_mean(probs, BINS, 0.01), mode, atol=0.5)
    # a sharp, two-peaked case: the mean lies between the peaks, the annealed mean goes to the larger
    p = np.zeros(len(BINS))
    i, j = 0, len(BINS) - 1
    p[i], p[j] = 0.6, 0.4
    np.testing.assert_allclose(abb.annealed_mean(p, BINS, 1.0), 0.6 * BINS[i] + 0.4 * BINS[j], atol=1e-4)
    np.testing.assert_allclose(abb.annealed_mean(p, BINS, 0.01), BINS[i], atol=1e-4)
    assert np.all(np.isfinite(abb.annealed_mean(p, BINS, 1e-4)))


def test_annealed_mean_rejects_bad_t():
    for T in (0.0, -1.0):
        with pytest.raises(ValueError, match="T must be > 0"):
            abb.annealed_mean(np.ones(len(BINS)) / len(BINS), BINS, T)
