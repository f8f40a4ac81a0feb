"""What the paper says, and what the course assumes: one row for each point where the paper is
silent, contradicts itself, or differs from what the course does (notebook 04_base_model; referred
to from 08 and 09).

The paper's words are quoted exactly from its full text (``shared/paper/deepcolor-paper.md``), but
for one reading: the text writes the L2 of "l2 regularization" as "12" (an OCR slip: figure 9's
code reads ``from keras.regularizers import 12``), and the quotes here write l2.  Where a row says
"our choice" or "our assumption", the course decided, not the paper.  ``deepcolor.paper`` holds the
paper's numbers and re-exports this table; this module imports nothing of the package.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["SaysAssumes", "SAYS_ASSUMES", "says_and_assumes"]


@dataclass(frozen=True)
class SaysAssumes:
    """One point where the paper is silent, contradicts itself, or differs from what the course does.

    topic: a few words; paper: the paper's own words, quoted (or "silent", and what it does show);
    where: section or figure; course: what the course does (``{profile_epochs}`` is filled in by
    :func:`says_and_assumes`); why: the reason, and whose choice it is.
    """

    topic: str
    paper: str
    where: str
    course: str
    why: str


_SAYS_ASSUMES_TEXT = """
epochs
    paper: "The model has been trained on 2500 epochs"
    where: §4.2
    course: {profile_epochs}; what 2,500 epochs would cost is in the next table
    why: our choice: 2,500 epochs of the base model at 224 px are a GPU job of hours at an ideal throughput (the
        cost table) and far longer at the paper's batch of 5, not a lesson; the course runs the paper's grid for
        few epochs and says so wherever a number is shown
learning-rate range
    paper: "varying the learning rate from 0.1 to 0.0001"
    where: §4.2 vs figure 16
    course: the grid includes figure 16's 0.00001, as the figure does
    why: the paper contradicts itself: figure 16 and its text use 0.00001, outside the stated range
L2 range
    paper: "regularization constant for l2 regularization from 0.1 to 0.001"
    where: §4.2 vs figures 12-20
    course: 0.1 and 0.01, the values of the figures
    why: no figure uses 0.001; the course runs what the figures show
figure 12's learning rate
    paper: caption: "learning rate 0.01"; text: "In figure 12, the learning rate is 0.001"
    where: figure 12, §5
    course: 0.01, the caption's value
    why: the paper contradicts itself; the caption is kept (the text may carry a typo)
figure 16's settings
    paper: caption: "learning rate = 0.00001" only
    where: figure 16
    course: batch 5 and L2 0.01, like figures 15, 17, 19 and 20 (figure 18 has L2 0.1)
    why: our assumption: the caption gives no batch size or L2; §5 gives "batch size = 5" for the pictures of
        its lr 0.00001 run (figure 22), and no L2
figure 16's scores
    paper: "the learning is very slow and achieves the validation accuracy 0.52240014 and test accuracy accuracy
        of 0.5577577"
    where: §5, figure 16
    course: the results table keeps both numbers as printed
    why: the only run whose validation score is below its test score, by 3.5 points (every other run scores
        0.5 to 3.2 points more on validation); the paper does not comment, and the course cannot tell a typo
        from a real result
figure 22's learning rate
    paper: caption: "Predicted images on base model lr = 0.0001"; §5, of figures 22, 23, 24 and 26: "learning
        rates = 0.00001, 0.001, 0.1 and 0.01"
    where: figure 22, §5
    course: the course reproduces none of the paper's pictures; its pictures show its own runs
    why: the paper contradicts itself: its caption and its text give figure 22 different learning rates
the runs behind figures 21 and 25
    paper: caption of 21: "Predicted images on base model with lr = 0.0001 and regularization parameter =
        0.1"; later in §5: "The results depicted by figure 21 are by the base model with learning rate =
        0.00001"; caption of 25: "Predicted images on base model with lr = 0.01, regularization parameter = 0.1"
    where: figures 21, 25, §5
    course: no study run has these settings; the course reproduces neither
    why: the paper shows pictures of runs whose training it never reports (no curve, no accuracy: of figures
        12-20 only figure 18, at lr 0.001, has L2 0.1), and gives figure 21 two learning rates
learning rate 0.1
    paper: figure 17: "the loss is nan due to high learning rate"; figure 24: "it causes the model to converge
        too quickly to a sub-optimal solution"
    where: §5, figures 17, 24
    course: notebook 08 runs figure 17's setting and reports how the run ended (its status: nan or completed)
    why: the paper gives lr 0.1 two outcomes, a loss that becomes NaN and a model that converges, and tests
        neither reason; it does not say whether figure 24 comes from figure 17's run
tuned on validation, picked on test
    paper: "Parameter optimization has been performed on the validation set to obtain the best possible
        results"
    where: §4.2 vs abstract, §6, figures 15, 20
    course: the study table shows every run's validation and test scores side by side
    why: the paper contradicts itself: its headline, the abstract's "generalization accuracy of 56.8752%", is the
        best of eight test scores (figure 20); the best validation score is figure 15's 0.5881328 (55.679 % on
        test); a setting picked on test overstates what it would score on new photos
the best model
    paper: §5: "the best results are shown in figure 23" (lr 0.001); §6: "the best performance was achieved
        using the base model with learning rate of 0.0001"
    where: §5, §6, figures 15, 16, 20, 23
    course: the table shows every run's numbers and lets them speak
    why: the paper disagrees with itself: figure 23 (lr 0.001) is picked by eye, the conclusion names lr 0.0001
        (figure 20, the best test score), and the lr 0.00001 run of figure 16, whose "learning is very slow",
        scores 55.78 % on test, above the lr 0.001 run's 55.68 % (figure 15)
parameter totals
    paper: totals printed for architectures 1 and 2 only
    where: figures 4, 6, 8, 10
    course: all four totals; the base model's and architecture 3's are the sums of their layer tables
    why: the built Keras models equal all four exactly
activation and padding
    paper: silent: the Keras summaries give output shapes and parameter counts only, and the code snippets
        cannot be read in the text (figure 9 shows "from keras.regularizers import l2" and little else)
    where: figures 4-11
    course: ReLU after every convolution but the last, tanh on the last; same padding everywhere
    why: our assumption; the shapes require same padding (without it a stride-2 3x3 convolution takes 224 to 111,
        not figure 4's 112), but no shape or count tells the activation
where L2 applies
    paper: "from keras.regularizers import l2" (figure 9); captions: "l2 regularization 0.01"
    where: figures 9, 11, 12-20
    course: an L2 penalty of the run's factor on the kernel of every convolution, none on the biases, added to
        the loss Keras reports (deepcolor.models.build_model)
    why: our assumption: the paper names one factor per run, never the layers it weighs
the embedding's input
    paper: "We generate embeddings by passing images through the Inception-Resnet v2"; it "has an input size
        of 299 x 299"
    where: §3, figures 4-10
    course: the gray image (L x 2.55, in [0, 255]) copied into 3 channels, resized to 299x299, Keras'
        preprocess_input, and the classifier's 1000 softmax probabilities as the embedding (deepcolor.embeddings)
    why: our assumption: the paper says neither how one gray channel becomes Inception's three, nor the range,
        nor which layer it reads; the fusion input's 1000 channels (figures 4-10) fit the 1000 class
        probabilities, not the network's 1536 pooled features
scaling
    paper: silent
    where: —
    course: L / 100 in [0, 1] as input; ab / 128 with a tanh output
    why: our choice, as in Deep Koalarization (Baldassarre et al. 2017), which the paper builds on
the metric
    paper: "accuracy", never defined
    where: §5, figures 12-20
    course: Keras' categorical accuracy over the (a, b) channels: is a > b guessed right
    why: our inference: what Keras gives for metrics=['accuracy'] on an MSE model with an (H, W, 2) output
X's channels
    paper: "a colored image with 3 channels for red, green and blue"; then "X = (X_L, X_a, X_b)"
    where: §3
    course: the network's output is (a, b); with L it makes a Lab image, converted to sRGB to be shown and for the
        RGB metrics (deepcolor.color)
    why: the paper contradicts itself: its own equation makes X's three channels L, a and b; red, green and
        blue come from converting X to sRGB
Zhang et al.'s weights
    paper: "a weight vector for every pixel which weighted dull colors with a greater loss"
    where: §2
    course: notebook 11 rebalances as Zhang et al. do: the rarer a colour, the larger its weight
        (deepcolor.ab_bins.rebalance_weights)
    why: the paper's sentence inverts Zhang et al. (2016): dull, near-gray colours are the common ones, and
        their weights favour the rare, saturated ones, as the same sentence's aim says: "the rarer colors as well"
image size
    paper: the model summaries' output, "(None, 224, 224, 2)"; CNNs "are independent of the input size of the image"
    where: §3, §3.1
    course: smoke 32 px; default 96 px, and 64 px in notebooks 08 and 11, which train many models; full 224 px
    why: our choice: training time grows with the pixels, and at these sizes every notebook of default fits a
        lesson on a 2-core laptop CPU (benchmarks/RESULTS.md); the networks are convolutional, so the same code
        runs at any multiple of 8
the data's size
    paper: "2.9 GB of data consisting of 25K sets of images"
    where: §4.1
    course: 3.76 GB as uncompressed uint8 arrays (25,000 x 224 x 224 x 3 bytes)
    why: the paper's figure may be the compressed download
"""
"""The points where the course had to choose, as text (read by :data:`SAYS_ASSUMES`): a line at the
margin starts one and names its topic; each indented ``field: value`` line gives a field of
:class:`SaysAssumes`; a line indented deeper goes on with the value above."""


def _text_records(text: str) -> list[dict]:
    """The records of a text written as :data:`_SAYS_ASSUMES_TEXT` is, as dicts of field -> value."""
    records, field = [], None
    for line in text.strip("\n").splitlines():
        if not line.startswith(" "):
            records.append({"topic": line})
        elif line.startswith(" " * 8):
            records[-1][field] += " " + line.strip()
        else:
            field, _, value = line.strip().partition(": ")
            records[-1][field] = value
    return records


SAYS_ASSUMES = tuple(SaysAssumes(**record) for record in _text_records(_SAYS_ASSUMES_TEXT))
"""The points where the course had to choose, one row each (notebook 04_base_model; referred to
from 08 and 09)."""


def says_and_assumes(profile_epochs: str = "each profile's epochs"):
    """:data:`SAYS_ASSUMES` as a pandas DataFrame (notebook 04_base_model), indexed by topic, with
    columns paper, where, course, why.  profile_epochs: how many epochs the profiles train, as text."""
    import pandas as pd

    rows = [{**asdict(r), "course": r.course.format(profile_epochs=profile_epochs)} for r in SAYS_ASSUMES]
    return pd.DataFrame(rows).set_index("topic")
