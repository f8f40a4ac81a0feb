"""DeepColor: a course on automatic colorization of grayscale photos.

The package holds every piece of logic the notebooks use.  Importing it has no side
effects: Keras and TensorFlow are only imported by the submodules that need them
(``deepcolor.models``, ``deepcolor.train``, ...), when those are imported.

Submodules, in the order the course introduces them:

- ``deepcolor.settings``        every environment variable, and the folders they choose (notebook 00)
- ``deepcolor.config``          profiles (smoke, default, full) and the environment (notebook 00)
- ``deepcolor.color``           sRGB <-> CIE Lab, the 8-bit Lab encoding, model scaling (notebook 01)
- ``deepcolor.data``            where datasets come from: Kaggle, your own photos, the built-in sample,
  the split (notebook 02); built on ``deepcolor.lab_dataset`` (the dataset type and its on-disk
  layout; ``deepcolor.layout_writer`` writes it), ``deepcolor.kaggle`` (the Kaggle set: found, opened, and downloaded by ``config.load()``
  online), ``deepcolor.photos`` (reading photo files) and ``deepcolor.sample``
- ``deepcolor.embeddings``      Inception-ResNet-v2 embeddings (notebook 03), with ``deepcolor.weights``
  (the ImageNet weights) and ``deepcolor.embedding_cache`` (computed once per dataset)
- ``deepcolor.paper``           the paper's facts, no Keras: architectures, parameter counts, results,
  study grid (notebooks 04-09); ``deepcolor.paper_notes`` what the paper says against what the
  course assumes (notebook 04)
- ``deepcolor.models``          the paper's four architectures in Keras (notebooks 04-07)
- ``deepcolor.batches``         the Keras batch source for ``model.fit`` (notebook 04)
- ``deepcolor.train``           training: build, fit and checkpoint every epoch (notebooks 04-08)
- ``deepcolor.runs``            a run's whole life, ``Run``: its record, reuse, resume, lock, model and
  kept measurements (notebooks 04-11); ``deepcolor.run_table`` all runs as a table (notebook 08),
  ``deepcolor.fingerprints`` what identifies the images and the model a result was made with
- ``deepcolor.heads``           what a network predicts, as one value: the paper's MSE head or a
  classifier's (notebooks 04, 11)
- ``deepcolor.predict``         a trained colorizer applied to lightness at any size (notebook 04), with
  ``deepcolor.resize`` (the one resize of model inputs and outputs)
- ``deepcolor.metrics``         the paper's accuracy, real colour metrics and the baselines (notebooks 04-09)
- ``deepcolor.evaluation``      a model measured on a set of a dataset's images (notebooks 04-09)
- ``deepcolor.comparison``      models on the split's two test sets, photos never seen and new crops of photos
  seen, side by side, and the crops a picture shows (notebooks 04-11)
- ``deepcolor.ab_bins``         colour as classes: ab bins, soft encoding, rebalancing, the annealed mean
  (notebook 11)
- ``deepcolor.classify``        colour as classes: the classifier on the paper's trunk, its batches and
  head setting, read with the annealed mean (notebook 11)
- ``deepcolor.colorize``        colorize your own photos (notebook 10; ``deepcolor colorize``), with
  ``deepcolor.colorize_files`` (which files, which outputs)
- ``deepcolor.lessons``         what each notebook shows, one module per notebook, named after it
- ``deepcolor.exercises``       the notebooks' exercises, checked: ``exercises.check("04.2", answer)``

Plumbing: ``deepcolor.files`` (atomic writes, strict JSON, folders swapped into place, free
space), ``deepcolor.locks`` (one writer per folder), ``deepcolor.stopping`` (SIGTERM cleans up
like Ctrl-C), ``deepcolor.limits`` (sizes refused before anything is written),
``deepcolor.network`` (is a host reachable), ``deepcolor.progress`` (progress bars),
``deepcolor.backend`` (Keras started without the backend's C++ start-up lines),
``deepcolor.classroom`` and ``deepcolor.classroom_install`` (a pack of what a profile downloads,
for a classroom without internet), ``deepcolor.course`` (the notebooks that travel with the
package, and a student's copy of them), ``deepcolor.book`` and ``deepcolor.book_pages`` (the course
run into static HTML pages), ``deepcolor.cli``, ``deepcolor.cli_train`` and ``deepcolor.cli_course``
(the ``deepcolor`` command).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
