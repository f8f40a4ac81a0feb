"""Tests of deepcolor.color: sRGB <-> Lab against scikit-image, the 8-bit encoding, model scaling."""

import numpy as np
import pytest
import skimage.color
import skimage.data

from deepcolor import color

L_STEP = 100 / 255  # one step of the 8-bit L encoding, in Lab units
AB_STEP = 1.0


@pytest.fixture(scope="module")
def photos():
    """Real photos (uint8 RGB) of different sizes and colour content."""
    return [skimage.data.astronaut(), skimage.data.coffee(), skimage.data.chelsea()[:150, :200]]


def test_rgb_to_lab_matches_skimage_on_random_uint8_float_and_uint16():
    rng = np.random.default_rng(1)
    rgb8 = rng.integers(0, 256, size=(3, 17, 11, 3), dtype=np.uint8)
    lab = color.rgb_to_lab(rgb8)
    assert lab.dtype == np.float32 and lab.shape == rgb8.shape
    np.testing.assert_allclose(lab, skimage.color.rgb2lab(rgb8), atol=2e-3)

    rgbf = rng.random((40, 3))
    np.testing.assert_allclose(color.rgb_to_lab(rgbf), skimage.color.rgb2lab(rgbf), atol=2e-3)

    rgb16 = rng.integers(0, 65536, size=(9, 5, 3), dtype=np.uint16)
    np.testing.assert_allclose(color.rgb_to_lab(rgb16), skimage.color.rgb2lab(rgb16 / 65535.0), atol=2e-3)
    # the three input types describe the same colour the same way
    np.testing.assert_allclose(color.rgb_to_lab(rgb8), color.rgb_to_lab(rgb8.astype(np.uint16) * 257), atol=2e-3)


def test_rgb_to_lab_matches_skimage_on_real_photos(photos):
    for rgb in photos:
        lab = color.rgb_to_lab(rgb)
        np.testing.assert_allclose(lab, skimage.color.rgb2lab(rgb), atol=2e-3)
        assert 0 <= lab[..., 0].min() and lab[..., 0].max() <= 100
        assert np.abs(lab[..., 1:]).max() < 128


def test_known_colours():
    rgb = np.array([[0, 0, 0], [255, 255, 255], [255, 0, 0], [128, 128, 128]], np.uint8)
    lab = color.rgb_to_lab(rgb)
    np.testing.assert_allclose(lab[0], [0, 0, 0], atol=1e-3)
    np.testing.assert_allclose(lab[1], [100, 0, 0], atol=1e-2)
    np.testing.assert_allclose(lab[2], [53.24, 80.09, 67.20], atol=0.05)  # sRGB red, D65
    assert abs(lab[3, 1]) < 1e-2 and abs(lab[3, 2]) < 1e-2  # grays have a = b = 0


@pytest.mark.filterwarnings("ignore:Conversion from CIE-LAB")
def test_lab_to_rgb_matches_skimage_and_clips_out_of_gamut(photos):
    lab = skimage.color.rgb2lab(photos[1])
    rgb = color.lab_to_rgb(lab)
    assert rgb.dtype == np.float32 and rgb.shape == lab.shape
    np.testing.assert_allclose(rgb, skimage.color.lab2rgb(lab), atol=1e-5)

    rng = np.random.default_rng(2)
    wild = np.stack([rng.uniform(0, 100, 500), rng.uniform(-128, 127, 500), rng.uniform(-128, 127, 500)], -1)
    out = color.lab_to_rgb(wild)
    assert out.min() >= 0.0 and out.max() <= 1.0
    np.testing.assert_allclose(out, np.clip(skimage.color.lab2rgb(wild), 0, 1), atol=1e-5)


def test_rgb_lab_rgb_round_trip(photos):
    for rgb in photos:
        back = color.lab_to_rgb(color.rgb_to_lab(rgb))
        np.testing.assert_allclose(back, rgb / 255.0, atol=2e-3)
        # back in 8 bits, nearly every pixel is the very same value
        assert np.mean(np.rint(back * 255).astype(np.uint8) == rgb) > 0.99


@pytest.mark.filterwarnings("ignore:Conversion from CIE-LAB")
def test_join_and_split_lab_are_inverse():
    rng = np.random.default_rng(3)
    L = rng.uniform(0, 100, (2, 6, 5)).astype(np.float32)
    ab = rng.uniform(-128, 127, (2, 6, 5, 2)).astype(np.float32)
    lab = color.join_lab(L, ab)
    assert lab.shape == (2, 6, 5, 3) and lab.dtype == np.float32
    L2, ab2 = color.split_lab(lab)
    np.testing.assert_array_equal(L2, L)
    np.testing.assert_array_equal(ab2, ab)
    np.testing.assert_allclose(color.lab_parts_to_rgb(L, ab), color.lab_to_rgb(lab))


def test_encode_decode_lab8_round_trip_within_one_step(photos):
    lab = color.rgb_to_lab(photos[0])
    L, ab = lab[..., 0], lab[..., 1:]
    L8, ab8 = color.encode_lab8(L, ab)
    assert L8.dtype == np.uint8 and ab8.dtype == np.uint8
    assert L8.shape == L.shape and ab8.shape == ab.shape
    L_back, ab_back = color.decode_lab8(L8, ab8)
    assert L_back.dtype == np.float32 and ab_back.dtype == np.float32
    assert np.abs(L_back - L).max() <= L_STEP / 2 + 1e-4
    assert np.abs(ab_back - ab).max() <= AB_STEP / 2 + 1e-4
    # the quantization is real, not a no-op: most values move a little
    assert np.mean(L_back != L) > 0.5


def test_encode_lab8_is_the_opencv_convention_and_clips():
    L8, ab8 = color.encode_lab8(np.array([0.0, 50.0, 100.0]), np.array([[-128.0, 127.0], [0.0, 0.4], [-300.0, 300.0]]))
    np.testing.assert_array_equal(L8, [0, 128, 255])  # 50 * 255 / 100 = 127.5 -> 128
    np.testing.assert_array_equal(ab8, [[0, 255], [128, 128], [0, 255]])


def test_decode_then_encode_is_exact_on_every_code():
    codes = np.arange(256, dtype=np.uint8)
    L, ab = color.decode_lab8(codes, np.stack([codes, codes[::-1]], -1))
    assert L.min() == 0 and L.max() == pytest.approx(100)
    assert ab.min() == -128 and ab.max() == 127
    L8, ab8 = color.encode_lab8(L, ab)
    np.testing.assert_array_equal(L8, codes)
    np.testing.assert_array_equal(ab8, np.stack([codes, codes[::-1]], -1))


def test_to_model_and_from_model_are_inverse_with_the_documented_ranges(photos):
    lab = np.stack([color.rgb_to_lab(photos[0][:64, :64]), color.rgb_to_lab(photos[1][:64, :64])])
    L, ab = lab[..., 0], lab[..., 1:]
    L_s, ab_s = color.to_network_scale(L, ab)
    assert L_s.shape == (2, 64, 64, 1) and ab_s.shape == (2, 64, 64, 2)
    assert L_s.dtype == np.float32 and ab_s.dtype == np.float32
    assert 0 <= L_s.min() and L_s.max() <= 1
    assert -1 <= ab_s.min() and ab_s.max() <= 1
    np.testing.assert_allclose(L_s[..., 0], L / 100, rtol=1e-6)
    np.testing.assert_allclose(ab_s, ab / 128, rtol=1e-6)

    L2, ab2 = color.from_network_scale(L_s, ab_s)
    assert L2.shape == L.shape and ab2.shape == ab.shape
    np.testing.assert_allclose(L2, L, atol=1e-4)
    np.testing.assert_allclose(ab2, ab, atol=1e-4)
    # L without its channel axis is accepted too; ab may be left out of to_network_scale
    np.testing.assert_allclose(color.from_network_scale(L_s[..., 0], ab_s)[0], L, atol=1e-4)
    L_only, none = color.to_network_scale(L)
    assert none is None and L_only.shape == (2, 64, 64, 1)


def test_gray_to_rgb_is_gray_and_spans_black_to_white():
    L = np.linspace(0, 100, 11, dtype=np.float32)[None, :]
    rgb = color.gray_to_rgb(L)
    assert rgb.shape == (1, 11, 3)
    np.testing.assert_allclose(rgb[..., 0], rgb[..., 1], atol=2e-3)
    np.testing.assert_allclose(rgb[..., 1], rgb[..., 2], atol=2e-3)
    assert rgb[0, 0].max() < 1e-3 and rgb[0, -1].min() > 0.999
    assert np.all(np.diff(rgb[0, :, 0]) > 0)


@pytest.mark.parametrize("shape", [(4, 4), (4, 4, 4), (4, 4, 1)])
def test_rgb_to_lab_rejects_images_without_three_channels(shape):
    with pytest.raises(ValueError, match="3 channels"):
        color.rgb_to_lab(np.zeros(shape, np.uint8))


@pytest.mark.parametrize("dtype", [np.int64, np.int8, bool])
def test_rgb_to_lab_rejects_unknown_dtypes(dtype):
    with pytest.raises(ValueError, match="uint8, uint16 or float"):
        color.rgb_to_lab(np.zeros((2, 2, 3), dtype))


def test_other_shape_and_dtype_errors_are_clear():
    with pytest.raises(ValueError, match="3 channels"):
        color.lab_to_rgb(np.zeros((4, 4, 2)))
    with pytest.raises(ValueError, match="uint8"):
        color.decode_lab8(np.zeros((2, 2), np.float32), np.zeros((2, 2, 2), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        color.decode_lab8(np.zeros((2, 2), np.uint8), np.zeros((2, 2, 2), np.int16))
    with pytest.raises(ValueError, match="do not match"):
        color.join_lab(np.zeros((2, 4, 4)), np.zeros((2, 4, 5, 2)))
    with pytest.raises(ValueError, match="do not match"):
        color.join_lab(np.zeros((2, 4, 4)), np.zeros((2, 4, 4, 3)))
