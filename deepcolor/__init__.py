"""DeepColor: a course on automatic colorization of grayscale photos.

The package holds every piece of logic the notebooks use.  Importing it has no side
effects: Keras and TensorFlow are only imported by the submodules that need them
(``deepcolor.models``, ``deepcolor.train``, ...), when those are imported.

Submodules, in the order the course introduces them:

- ``deepcolor.color``      sRGB <-> CIE Lab, the 8-bit Lab encoding, model scaling (notebook 01)
- ``deepcolor.data``       datasets on disk, the built-in sample, splits (notebook 02)
- ``deepcolor.batches``    Keras batch source for ``model.fit`` (notebook 04)
- ``deepcolor.embeddings`` Inception-ResNet-v2 embeddings (notebook 03)
- ``deepcolor.models``     the paper's four architectures (notebooks 04-07)
- ``deepcolor.train``      training runs and their records (notebooks 04-08)
- ``deepcolor.metrics``    paper accuracy and real colour metrics (notebook 09)
- ``deepcolor.colorize``   colorize your own photos (notebook 10)
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
