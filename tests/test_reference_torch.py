"""The PyTorch reference of benchmarks/reference_torch.py is the paper's network, layer for layer.

Skipped where PyTorch is absent (it is in the ``bench`` extra, not in ``test``)."""

import sys
from pathlib import Path

import numpy as np
import pytest

from deepcolor import paper
from deepcolor.models import layer_table

torch = pytest.importorskip("torch")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import reference_torch


@pytest.mark.parametrize("name", sorted(reference_torch.MODELS))
def test_parameter_counts_are_the_papers(name):
    model = reference_torch.build(name)
    assert reference_torch.parameter_count(model) == paper.PAPER_PARAMS[name]


@pytest.mark.parametrize("name", sorted(reference_torch.MODELS))
def test_each_conv_matches_the_keras_layer_table(name):
    """Same convs in the same order: filters, kernel, stride and parameters, row by row."""
    keras_convs = [(r["filters"], r["kernel"], r["stride"], r["params"])
                   for r in layer_table(name) if r["filters"] != ""]
    torch_convs = [(m.out_channels, m.kernel_size[0], m.stride[0], sum(p.numel() for p in m.parameters()))
                   for m in reference_torch.build(name).modules() if isinstance(m, torch.nn.Conv2d)]
    assert torch_convs == keras_convs


@pytest.mark.parametrize("name", sorted(reference_torch.MODELS))
def test_output_shape_and_range(name):
    model = reference_torch.build(name)
    L = torch.from_numpy(np.random.default_rng(0).random((2, 1, 64, 64), dtype=np.float32))
    embedding = torch.full((2, paper.EMBEDDING_SIZE), 1e-3)
    with torch.no_grad():
        out = model(L, embedding)
    assert out.shape == (2, 2, 64, 64)
    assert float(out.abs().max()) <= 1.0


def test_an_unknown_name_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="base, arch3"):
        reference_torch.build("arch2")
