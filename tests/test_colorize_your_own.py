"""Tests of deepcolor.lessons.colorize_your_own: notebook 10's upload, before/after figure and command line."""

import numpy as np
import pytest

from deepcolor.lessons import colorize_your_own as lesson


def test_photo_from_upload(tmp_path):
    import io

    import skimage.data
    from PIL import Image

    from deepcolor.photos import read_photo

    fallback = lesson.photo_from_upload((), tmp_path)
    assert fallback.name == "coffee.png" and np.array_equal(read_photo(fallback), skimage.data.coffee())
    rgb = np.random.default_rng(1).integers(0, 255, (20, 30, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    upload = ({"name": "../../evil/mine.png", "type": "image/png", "content": memoryview(buf.getvalue())},)
    path = lesson.photo_from_upload(upload, tmp_path / "up")
    assert path == tmp_path / "up" / "mine.png" and np.array_equal(read_photo(path), rgb)
    with pytest.raises(ValueError, match="FileUpload"):
        lesson.photo_from_upload(("not a dict",), tmp_path)
    unseen = lesson.UnseenPhoto("chelsea", rgb, "no: a test photo")
    saved = lesson.photo_from_upload((), tmp_path / "none", unseen=unseen)  # nothing uploaded: the unseen photo
    assert saved.name == "chelsea.png" and np.array_equal(read_photo(saved), rgb)
    assert lesson.photo_from_upload(upload, tmp_path / "up", unseen=unseen).name == "mine.png"  # an upload wins


def test_unseen_photo_of_the_sample_is_a_whole_test_photo(sample_ds):
    import skimage.data

    from deepcolor import data

    ds = sample_ds
    split = data.split(len(ds), groups=ds.groups)
    unseen = lesson.unseen_photo(ds, split)
    photo = ds.manifest["items"][split.test[0]]["photo"]
    assert unseen.name == photo and photo in unseen.why and "no crop of it was used in training" in unseen.why
    assert photo not in {ds.manifest["items"][i]["photo"] for i in split.train}
    if photo == "chelsea":  # seed 0 today; the sample's photo list decides
        assert np.array_equal(unseen.rgb, skimage.data.chelsea())
    assert unseen.rgb.dtype == np.uint8 and min(unseen.rgb.shape[:2]) > 224  # the whole photo, not a crop


def test_unseen_photo_without_photo_names_is_a_test_image():
    from lab_checks import random_lab_dataset

    from deepcolor import data

    ds, _ = random_lab_dataset()
    split = data.split(len(ds))
    unseen = lesson.unseen_photo(ds, split)
    assert unseen.rgb.shape == (32, 32, 3) and unseen.rgb.dtype == np.uint8
    assert f"image {split.test[0]}" in unseen.why and "never used in training" in unseen.why


def test_show_before_after_draws_pixel_for_pixel():
    rng = np.random.default_rng(2)
    rgb_in = rng.random((40, 60, 3)).astype(np.float32)
    rgb_out = rng.random((40, 60, 3)).astype(np.float32)
    fig = lesson.show_before_after(rgb_in, rgb_out)
    assert len(fig.axes) == 3  # gray input, colorized, original
    assert fig.get_size_inches() * fig.dpi == pytest.approx((3 * 60, 40 + 30))
    assert np.allclose(fig.axes[1].get_images()[0].get_array(), rgb_out)
    gray_in = np.repeat(rgb_in[..., :1], 3, axis=-1)
    assert len(lesson.show_before_after(gray_in, rgb_out).axes) == 2  # no colour to show as "original"
    big = lesson.show_before_after(np.zeros((300, 2400), np.uint8), np.zeros((300, 2400, 3)), max_side=1200)
    assert big.get_size_inches()[0] * big.dpi == pytest.approx(2 * 1200)
    with pytest.raises(ValueError, match="same"):
        lesson.show_before_after(rgb_in, rgb_out[:10])


def test_before_after_carries_the_caption_above_the_panels_without_covering_them():
    rgb = np.random.default_rng(3).random((200, 300, 3)).astype(np.float32)
    text = "profile: smoke, embeddings: untrained. NOT RESULTS (smoke profile: tiny data, few epochs)"
    fig = lesson.show_before_after(rgb, rgb, caption=text)
    plain = lesson.show_before_after(rgb, rgb)
    assert " ".join(t.get_text() for t in fig.texts).replace("\n", " ") == text
    assert fig.get_size_inches()[1] > plain.get_size_inches()[1]  # room made for it
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    caption_box = fig.texts[0].get_window_extent(renderer)
    for ax in fig.axes:  # neither the images nor their titles are under the caption
        assert caption_box.y0 >= ax.title.get_window_extent(renderer).y1 - 1


def test_colorize_command_parses_like_the_cli():
    import shlex

    from deepcolor.cli import build_parser

    cmd = lesson.colorize_command("/runs/my run/model.keras", "/photos/cat 1.jpg", "out dir")
    argv = shlex.split(cmd)
    assert argv[0] == "deepcolor"
    args = build_parser().parse_args(argv[1:])
    assert (args.command, args.images, args.outdir, args.model, args.force) == (
        "colorize", ["/photos/cat 1.jpg"], "out dir", "/runs/my run/model.keras", False)
    forced = build_parser().parse_args(shlex.split(lesson.colorize_command("m.keras", "a.png", "out", force=True))[1:])
    assert forced.force and forced.outdir == "out"
