"""What the lesson tests look for in a drawn figure: its images and its texts."""

from matplotlib.image import AxesImage


def images_of(fig):
    """The AxesImage artists of a figure, axis by axis (colour bars hold none)."""
    return [im for ax in fig.axes for im in ax.get_images() if isinstance(im, AxesImage)]


def texts_of(fig):
    out = [t.get_text() for t in fig.texts] + [fig._suptitle.get_text() if fig._suptitle else ""]
    for ax in fig.axes:
        out += [ax.get_title(), ax.get_xlabel()] + [t.get_text() for t in ax.texts]
    return "\n".join(out)
