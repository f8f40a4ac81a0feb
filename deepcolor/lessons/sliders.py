"""Sliders over a figure, safe to run headless (notebooks 01, 02 and 11_colour_as_classes).

``ipywidgets.interact`` shows what its function returns through an Output widget.  A browser
draws that widget; ``jupyter nbconvert --execute``, papermill and a teacher pre-running the course
(all nbclient) stand in for the browser and send each output back to the kernel on the shell
channel, from the coroutine that reads kernel output, while another coroutine waits on the same
channel for the cell's reply.  That wait is sometimes never woken (more often the larger the
figure: 3 runs in 5 with notebook 01's 53 kB a-b plane, 2 in 3 with a 560 kB figure): the reply has
arrived, nbclient does not read it, and the run hangs for good, or until a per-cell timeout ends
the wait (jupyter/nbclient#312, jupyter/nbconvert#1921 and #2029; no released version fixes it).

:func:`figure_slider` draws the figure into an ``ipywidgets.Image`` instead: the kernel replaces
its PNG on every change, and nothing is sent back.  The notebook still calls the plain function
once before the slider, so that an error fails the cell and a static render shows the figure.
"""

from __future__ import annotations

import html
import io

from matplotlib.figure import Figure

__all__ = ["figure_png", "figure_slider"]


def figure_png(fig: Figure, dpi: float | None = None) -> bytes:
    """``fig`` as PNG bytes, trimmed to what is drawn (as Jupyter shows a figure); ``dpi``
    defaults to the figure's own (notebooks 02, 11)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi or fig.dpi, bbox_inches="tight")
    return buffer.getvalue()


def figure_slider(draw, **arguments):
    """Controls over ``draw(**values)`` and the Figure it returns, redrawn on every change: what
    ``ipywidgets.interact(draw, **arguments)`` shows, without the Output widget that hangs
    ``nbconvert --execute`` (see the module's docstring) (notebooks 01, 02, 11).

    arguments: name -> an ipywidgets value widget (``IntSlider``, ``FloatSlider``, ...), whose
    ``description`` defaults to the name, or any other value, passed to ``draw`` as it is (what
    ``interact`` needs ``fixed(...)`` for).  An error while redrawing is shown under the figure
    (a widget's callback cannot fail the cell).  Returns an ``ipywidgets.VBox`` of CSS class
    ``figure-slider``: the controls, an ``ipywidgets.Image`` (PNG) and a message line; end the cell
    with it to show it."""
    import ipywidgets as widgets

    controls = {name: value for name, value in arguments.items() if isinstance(value, widgets.ValueWidget)}
    if not controls:
        raise ValueError("figure_slider needs at least one control (an ipywidgets value widget), "
                         f"got only fixed values for {', '.join(arguments) or 'nothing'}")
    for name, control in controls.items():
        control.description = control.description or name
    image = widgets.Image(format="png", layout=widgets.Layout(align_self="flex-start"))  # its own size, not stretched
    message = widgets.HTML()

    def redraw(_change=None) -> None:
        values = {name: controls[name].value if name in controls else value for name, value in arguments.items()}
        try:
            image.value = figure_png(draw(**values))
            message.value = ""
        except Exception as exc:  # the callback's error would otherwise reach only the kernel's log
            shown = ", ".join(f"{name}={controls[name].value!r}" for name in controls)
            message.value = f"<pre>could not draw at {html.escape(shown)}: {type(exc).__name__}: {html.escape(str(exc))}</pre>"

    redraw()
    for control in controls.values():
        control.observe(redraw, names="value")
    box = widgets.VBox([*controls.values(), image, message])
    box.add_class("figure-slider")  # what a browser test looks for
    return box
