"""deepcolor.lessons.lab_color_space: notebook 01_lab_color_space: the Lab pictures and tables, drawn headless."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from figure_checks import images_of  # noqa: E402
from deepcolor import color  # noqa: E402
from deepcolor.lessons import lab_color_space  # noqa: E402


def test_survives_rgb_roundtrip_accepts_real_colours_and_rejects_impossible_ones():
    rgb = np.random.default_rng(0).random((200, 3)).astype(np.float32)
    assert lab_color_space.survives_rgb_roundtrip(color.rgb_to_lab(rgb)).all()
    assert lab_color_space.survives_rgb_roundtrip(np.array([[50, 0, 0], [100, 0, 0]])).all()
    assert not lab_color_space.survives_rgb_roundtrip(np.array([[90, -100, -100], [10, 100, 100]])).any()


def test_show_lab_channels_draws_the_photo_and_the_channels_it_is_given(photo_crops):
    import matplotlib.pyplot as plt

    rgb = photo_crops(1)[0][:32, :48]
    L, ab = color.split_lab(color.rgb_to_lab(rgb))  # what the notebook's own cell does
    open_before = plt.get_fignums()
    fig = lab_color_space.show_lab_channels(rgb, L, ab)
    assert plt.get_fignums() == open_before  # let go by pyplot: Jupyter shows it once, nothing leaks
    ims = images_of(fig)
    assert len(ims) == 4 and len(fig.axes) == 7  # 4 images + 3 colour bars
    np.testing.assert_array_equal(ims[0].get_array(), rgb)
    for k, channel in enumerate((L, ab[..., 0], ab[..., 1])):
        np.testing.assert_array_equal(ims[k + 1].get_array(), channel)
    assert ims[2].get_clim() == ims[3].get_clim()  # a and b on one scale
    assert ims[2].get_clim()[1] >= np.abs(ab).max()
    with pytest.raises(ValueError, match="RGB photo"):
        lab_color_space.show_lab_channels(rgb[..., 0], L, ab)
    with pytest.raises(ValueError, match="split_lab"):  # channels of another photo
        lab_color_space.show_lab_channels(rgb, L[:16], ab)


@pytest.mark.parametrize("lab, inside", [((60, 40, 30), True), ((90, -100, -100), False)])
def test_lab_swatch_shows_the_colour_and_flags_the_gamut(lab, inside):
    fig = lab_color_space.lab_swatch(*lab)
    assert len(fig.axes) == 2
    patches = [p for ax in fig.axes for p in ax.patches if isinstance(p, Rectangle)]
    expected = color.lab_to_rgb(np.array(lab, np.float32))
    np.testing.assert_allclose(patches[0].get_facecolor()[:3], expected, atol=1e-6)
    gray = patches[1].get_facecolor()[:3]
    assert np.ptp(gray) < 1e-3  # same L, no colour
    title = fig._suptitle.get_text()
    assert ("OUT OF GAMUT" in title) != inside
    assert f"RGB ({', '.join(str(v) for v in np.rint(expected * 255).astype(int))})" in title


def test_ab_plane_marks_out_of_gamut_and_centres_on_gray():
    fig = lab_color_space.ab_plane(50, size=33)
    (im,) = images_of(fig)
    rgb = np.asarray(im.get_array())
    assert rgb.shape == (33, 33, 3) and im.get_extent() == [-128, 128, -128, 128]
    np.testing.assert_allclose(rgb[16, 16], color.lab_to_rgb(np.array([50, 0, 0], np.float32)), atol=1e-6)
    # row = b, column = a: a = 64, b = 0 is a real red-magenta; a = b = -128 is not a colour (checker gray)
    np.testing.assert_allclose(rgb[16, 24], color.lab_to_rgb(np.array([50, 64, 0], np.float32)), atol=1e-6)
    assert rgb[16, 24, 0] > rgb[16, 24, 1]
    assert np.ptp(rgb[0, 0]) == 0 and not lab_color_space.survives_rgb_roundtrip(np.array([50, -128, -128]))
    with pytest.raises(ValueError, match="L in"):
        lab_color_space.ab_plane(150)


def test_lab8_table_follows_the_kaggle_encoding(photo_crops):
    df = lab_color_space.lab8_table(*color.split_lab(color.rgb_to_lab(photo_crops(1)[0])), pixels=8)
    assert len(df) == 8 and df[["row", "col"]].drop_duplicates().shape[0] == 8
    np.testing.assert_allclose(df["L8"], np.rint(df["L"] * 2.55), atol=1)
    np.testing.assert_allclose(df["a8"], np.rint(df["a"] + 128), atol=1)
    np.testing.assert_allclose(df["L decoded"], df["L"], atol=0.2 + 0.01)
    np.testing.assert_allclose(df[["a decoded", "b decoded"]], df[["a", "b"]], atol=0.5 + 0.01)


def test_gamut_share_is_what_the_ab_plane_shows():
    grid = lab_color_space.ab_grid(50, size=33)
    assert grid.shape == (33, 33, 3) and (grid[..., 0] == 50).all()
    assert grid[16, 24, 1] == 64 and grid[24, 16, 2] == 64  # column = a, row = b
    share = lab_color_space.gamut_share(50, size=33)
    assert share == pytest.approx(lab_color_space.survives_rgb_roundtrip(grid).mean()) and 0.1 < share < 0.5
    assert f"{share:.1%} is in sRGB" in lab_color_space.ab_plane(50, size=33).axes[0].get_title()
    assert lab_color_space.gamut_share(100, size=33) < 0.01 < share  # white has no colourful neighbours
    with pytest.raises(ValueError, match="L in"):
        lab_color_space.ab_grid(-1)
