"""DeepColor: a course on automatic colorization of grayscale photos.

The package holds every piece of logic the notebooks use.  Importing it has no side
effects: Keras and TensorFlow are only imported by the submodules that need them
(``deepcolor.models``, ``deepcolor.train``, ...), when those are imported.

Submodules, in the order the course introduces them:

- ``deepcolor.config``          profiles (smoke, default, full) and the environment (notebook 00)
- ``deepcolor.color``           sRGB <-> CIE Lab, the 8-bit Lab encoding, model scaling (notebook 01)
- ``deepcolor.data``            datasets: Kaggle, your own photos, the built-in sample, splits (notebook 02),
  built on ``deepcolor.lab_dataset`` (the on-disk layout), ``deepcolor.photos`` and ``deepcolor.sample``
- ``deepcolor.embeddings``      Inception-ResNet-v2 embeddings (notebook 03), cached per dataset by
  ``deepcolor.embedding_cache``
- ``deepcolor.models``          the paper's four architectures (notebooks 04-07)
- ``deepcolor.batches``         the Keras batch source for ``model.fit`` (notebook 04)
- ``deepcolor.train``           training runs and their records (notebooks 04-08)
- ``deepcolor.metrics``         the paper's accuracy and real colour metrics (notebooks 04-09)
- ``deepcolor.paper``           the paper's results table (notebook 08)
- ``deepcolor.study``           the hyperparameter study and final evaluation (notebooks 08-10)
- ``deepcolor.colorize``        colorize your own photos (notebook 10; ``deepcolor colorize``)
- ``deepcolor.explore``, ``deepcolor.plots``  the pictures and tables the notebooks show
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
