"""deepcolor.photos: reading photo files (16-bit, gray) and resizing float images."""


import numpy as np
import pytest
import skimage.color
import skimage.data
from lab_checks import write_png16
from PIL import Image


def test_read_photo_16_bit_files(tmp_path):
    """Pillow opens a 16-bit RGB PNG as 8-bit RGB (its high byte), which the 8-bit dataset loses
    nothing by; a 16-bit grayscale PNG keeps its 16-bit scale (a dark one must stay dark)."""
    from deepcolor.photos import PhotoSkipped, read_photo

    rng = np.random.default_rng(0)
    rgb16 = rng.integers(0, 65536, (40, 50, 3), dtype=np.uint16)
    write_png16(tmp_path / "colour.png", rgb16)
    got = read_photo(tmp_path / "colour.png")
    assert got.shape == (40, 50, 3)
    if got.dtype == np.uint16:  # a Pillow that keeps all 16 bits
        np.testing.assert_array_equal(got, rgb16)
    else:
        assert got.dtype == np.uint8
        assert np.abs(got - rgb16 / 257.0).max() <= 1.0

    dark = rng.integers(0, 200, (40, 50)).astype(np.uint16)  # at most 200 out of 65535: nearly black
    Image.fromarray(dark).save(tmp_path / "gray16.png")
    gray = read_photo(tmp_path / "gray16.png", allow_gray=True)
    assert gray.dtype == np.uint16 and gray.shape == (40, 50, 3)
    np.testing.assert_array_equal(gray[..., 1], dark)
    with pytest.raises(PhotoSkipped, match="grayscale"):
        read_photo(tmp_path / "gray16.png")


def test_a_multi_page_tiff_is_read_at_its_first_page_with_a_note(tmp_path):
    from deepcolor.photos import notes_to, read_photo

    pages = [skimage.data.astronaut()[:64, 64 * k : 64 * k + 80] for k in range(3)]
    path = tmp_path / "scan.tiff"
    Image.fromarray(pages[0]).save(path, save_all=True, append_images=[Image.fromarray(p) for p in pages[1:]])
    notes = []
    with notes_to(notes.append):
        got = read_photo(path)
    np.testing.assert_array_equal(got, pages[0])
    assert notes == [f"{path} has 3 frames; used the first"]


def test_only_regular_files_are_opened_and_folders_list_the_others(tmp_path):
    """A named pipe would block ``open`` until a writer comes: it is never opened (a regression
    hangs until the alarm turns it into a failure)."""
    import os
    import signal

    from deepcolor.photos import PhotoSkipped, list_photos, read_photo

    Image.fromarray(skimage.data.coffee()[:64, :64]).save(tmp_path / "good.png")
    os.mkfifo(tmp_path / "pipe.jpg")
    (tmp_path / "null.png").symlink_to(os.devnull)
    (tmp_path / "gone.png").symlink_to(tmp_path / "nowhere.png")
    assert [p.name for p in list_photos(tmp_path)] == ["gone.png", "good.png", "null.png", "pipe.jpg"]

    def hung(*_):
        raise TimeoutError("read_photo waited on a named pipe")

    before = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    try:
        expected = {"pipe.jpg": "is a named pipe (FIFO), not a photo file",
                    "null.png": f"is a link to a character device ({os.devnull}), not a photo file",
                    "gone.png": "is a link to nothing, not a photo file"}
        for name, reason in expected.items():
            with pytest.raises(PhotoSkipped) as caught:
                read_photo(tmp_path / name)
            assert str(caught.value) == f"{tmp_path / name}: {reason}"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, before)


def test_resize_float_matches_a_careful_reference_and_keeps_range():
    """Pillow's float bilinear resize against scikit-image's (the reference) on a real photo."""
    from skimage.transform import resize

    from deepcolor.resize import resize_float

    x = skimage.data.coffee().astype(np.float32)[None] / 255.0  # (1, 400, 600, 3)
    up = resize_float(x[:, :100, :150], 300, 450)
    ref_up = resize(x[0, :100, :150], (300, 450), order=1, anti_aliasing=False)
    assert up.shape == (1, 300, 450, 3) and up.dtype == np.float32
    assert np.abs(up[0] - ref_up).mean() < 0.01
    down = resize_float(x, 100, 150)
    ref_down = resize(x[0], (100, 150), order=1, anti_aliasing=True)
    assert np.abs(down[0] - ref_down).mean() < 0.02
    assert down.min() >= 0 and down.max() <= 1
    with pytest.raises(ValueError, match="batch"):
        resize_float(x[0], 10, 10)
