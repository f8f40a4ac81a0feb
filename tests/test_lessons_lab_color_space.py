"""deepcolor.lessons.lab_color_space: notebook 01_lab_color_space: the Lab pictures and tables, drawn headless."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from figure_checks import images_of  # noqa: E402
from deepcolor import color  # noqa: E402
from deepcolor.lessons import lab_color_space as lesson  # noqa: E402


def test_survives_rgb_roundtrip_accepts_real_colours_and_rejects_impossible_ones():
    rgb = np.random.default_rng(0).random((200, 3)).astype(np.float32)
    assert lesson.survives_rgb_roundtrip(color.rgb_to_lab(rgb)).all()
    assert lesson.survives_rgb_roundtrip(np.array([[50, 0, 0], [100, 0, 0]])).all()
    assert not lesson.survives_rgb_roundtrip(np.array([[90, -100, -100], [10, 100, 100]])).any()


def test_show_lab_split_draws_the_photo_and_its_channels(photo_crops):
    import matplotlib.pyplot as plt

    rgb = photo_crops(1)[0][:32, :48]
    open_before = plt.get_fignums()
    fig = lesson.show_lab_split(rgb)
    assert plt.get_fignums() == open_before  # let go by pyplot: Jupyter shows it once, nothing leaks
    ims = images_of(fig)
    assert len(ims) == 4 and len(fig.axes) == 7  # 4 images + 3 colour bars
    lab = color.rgb_to_lab(rgb)
    np.testing.assert_array_equal(ims[0].get_array(), rgb)
    for k in range(3):
        np.testing.assert_allclose(ims[k + 1].get_array(), lab[..., k], atol=1e-5)
    assert ims[2].get_clim() == ims[3].get_clim()  # a and b on one scale
    assert ims[2].get_clim()[1] >= np.abs(lab[..., 1:]).max()
    with pytest.raises(ValueError, match="RGB photo"):
        lesson.show_lab_split(rgb[..., 0])


@pytest.mark.parametrize("lab, inside", [((60, 40, 30), True), ((90, -100, -100), False)])
def test_lab_swatch_shows_the_colour_and_flags_the_gamut(lab, inside):
    fig = lesson.lab_swatch(*lab)
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
    fig = lesson.ab_plane(50, size=33)
    (im,) = images_of(fig)
    rgb = np.asarray(im.get_array())
    assert rgb.shape == (33, 33, 3) and im.get_extent() == [-128, 128, -128, 128]
    np.testing.assert_allclose(rgb[16, 16], color.lab_to_rgb(np.array([50, 0, 0], np.float32)), atol=1e-6)
    # row = b, column = a: a = 64, b = 0 is a real red-magenta; a = b = -128 is not a colour (checker gray)
    np.testing.assert_allclose(rgb[16, 24], color.lab_to_rgb(np.array([50, 64, 0], np.float32)), atol=1e-6)
    assert rgb[16, 24, 0] > rgb[16, 24, 1]
    assert np.ptp(rgb[0, 0]) == 0 and not lesson.survives_rgb_roundtrip(np.array([50, -128, -128]))
    with pytest.raises(ValueError, match="L in"):
        lesson.ab_plane(150)


def test_roundtrip_error_is_small_and_the_8bit_step_shows(photo_crops):
    df = lesson.roundtrip_error(photo_crops(1)[0][:64, :64])
    err = df["max error"]
    assert err["rgb -> Lab -> rgb (float)"] < 0.01
    assert 0 < err["L -> 8-bit L8 -> L"] <= 100 / 255 / 2 + 1e-4
    assert 0 < err["ab -> 8-bit ab8 -> ab"] <= 0.5 + 1e-4
    assert 0.5 < err["rgb -> 8-bit Lab -> rgb"] < 5
    assert (df["mean error"] <= df["max error"]).all()


def test_lab8_table_follows_the_kaggle_encoding(photo_crops):
    df = lesson.lab8_table(photo_crops(1)[0], pixels=8)
    assert len(df) == 8 and df[["row", "col"]].drop_duplicates().shape[0] == 8
    np.testing.assert_allclose(df["L8"], np.rint(df["L"] * 2.55), atol=1)
    np.testing.assert_allclose(df["a8"], np.rint(df["a"] + 128), atol=1)
    np.testing.assert_allclose(df["L decoded"], df["L"], atol=0.2 + 0.01)
    np.testing.assert_allclose(df[["a decoded", "b decoded"]], df[["a", "b"]], atol=0.5 + 0.01)


def test_gamut_share_is_what_the_ab_plane_shows():
    grid = lesson.ab_grid(50, size=33)
    assert grid.shape == (33, 33, 3) and (grid[..., 0] == 50).all()
    assert grid[16, 24, 1] == 64 and grid[24, 16, 2] == 64  # column = a, row = b
    share = lesson.gamut_share(50, size=33)
    assert share == pytest.approx(lesson.survives_rgb_roundtrip(grid).mean()) and 0.1 < share < 0.5
    assert f"{share:.1%} is in sRGB" in lesson.ab_plane(50, size=33).axes[0].get_title()
    assert lesson.gamut_share(100, size=33) < 0.01 < share  # white has no colourful neighbours
    with pytest.raises(ValueError, match="L in"):
        lesson.ab_grid(-1)
