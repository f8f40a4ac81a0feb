"""deepcolor.lessons.sliders: a slider over a figure, shown as a PNG image widget (notebooks 02, 11)."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402

from deepcolor.lessons import sliders  # noqa: E402
from deepcolor.lessons.figures import figure  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def bars(n, label="bars"):
    if n < 0:
        raise ValueError("n must not be negative")
    fig = figure(figsize=(2, 2))
    fig.subplots().bar(range(n + 1), range(n + 1), label=label)
    return fig


def test_figure_png_is_a_png_of_the_figure():
    assert sliders.figure_png(bars(3)).startswith(PNG)


def test_figure_slider_draws_passes_fixed_values_and_redraws_on_change():
    import ipywidgets as widgets

    calls = []

    def draw(n, label):
        calls.append((n, label))
        return bars(n, label)

    n = widgets.IntSlider(value=2, min=-1, max=5)
    box = sliders.figure_slider(draw, n=n, label="fixed text")
    control, image, message = box.children
    assert "figure-slider" in box._dom_classes
    assert control is n and n.description == "n" and isinstance(image, widgets.Image)
    assert calls == [(2, "fixed text")] and bytes(image.value).startswith(PNG) and message.value == ""
    first = image.value
    n.value = 4
    assert calls[-1] == (4, "fixed text") and bytes(image.value).startswith(PNG) and bytes(image.value) != bytes(first)
    n.value = -1  # an error is shown under the figure, the last figure stays
    assert "could not draw at n=-1" in message.value and "ValueError" in message.value
    assert bytes(image.value).startswith(PNG)
    n.value = 1
    assert message.value == ""


def test_figure_slider_needs_a_control():
    with pytest.raises(ValueError, match="at least one control"):
        sliders.figure_slider(bars, n=3)
