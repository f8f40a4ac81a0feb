"""The base model and architecture 3, written directly in PyTorch: the speed reference.

``benchmarks/train_throughput.py --compare-torch`` times these beside the Keras models of
``deepcolor.models`` (notebooks 04 and 07) on the same data, batch, image size and optimizer.
They are what an engineer would write by hand instead of Keras, layer for layer the same network:

- every conv is 3x3 unless named 1x1, "same" padding, ReLU, tanh on the last one;
- the fusion tiles the 1000-d embedding over the 28x28 (at 224) feature map and concatenates it;
- ``up`` doubles height and width (nearest neighbour, as Keras' ``UpSampling2D``).

Same parameter counts as the paper's figures 4 and 10 (``tests/test_reference_torch.py``).
One difference, of numbers but not of cost: for a stride-2 conv on an even input, Keras' "same"
pads 0 before and 1 after, PyTorch's ``padding=1`` pads 1 on both sides, so the two see
the image shifted by one pixel. Tensors are NCHW, PyTorch's own layout.

Inputs: L ``(N, 1, S, S)`` float32 in [0, 1], embedding ``(N, 1000)``; output ``(N, 2, S, S)``
ab / 128 in [-1, 1].  Needs PyTorch: ``pip install -e ".[bench]"``.
"""

import torch
from torch import nn

EMBEDDING_SIZE = 1000


def conv(c_in, c_out, kernel=3, stride=1, last=False):
    """A "same"-padded conv followed by ReLU (tanh when ``last``)."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2),
                         nn.Tanh() if last else nn.ReLU())


def up():
    return nn.Upsample(scale_factor=2, mode="nearest")


class Colorizer(nn.Module):
    """Encoder -> tile and concatenate the embedding -> fusion -> decoder."""

    def __init__(self, encoder, fusion, decoder):
        super().__init__()
        self.encoder, self.fusion, self.decoder = encoder, fusion, decoder

    def forward(self, L, embedding):
        features = self.encoder(L)  # (N, C, S/8, S/8)
        n, _, h, w = features.shape
        tiled = embedding.to(features.dtype)[:, :, None, None].expand(n, EMBEDDING_SIZE, h, w)
        return self.decoder(self.fusion(torch.cat([features, tiled], dim=1)))


def base_model():
    """The paper's base model (figure 4): 6,606,994 parameters."""
    encoder = nn.Sequential(conv(1, 64, stride=2), conv(64, 128), conv(128, 128, stride=2),
                            conv(128, 256), conv(256, 256, stride=2), conv(256, 512),
                            conv(512, 512), conv(512, 256))
    fusion = nn.Sequential(conv(256 + EMBEDDING_SIZE, 256, kernel=1), conv(256, 256, kernel=1))
    decoder = nn.Sequential(conv(256, 128), up(), conv(128, 64), up(), conv(64, 32),
                            conv(32, 16), conv(16, 2, last=True), up())
    return Colorizer(encoder, fusion, decoder)


def architecture_3():
    """The paper's modification 3 (figure 10): 249,170 parameters."""
    encoder = nn.Sequential(conv(1, 64, stride=2), conv(64, 64, stride=2), conv(64, 32, stride=2),
                            conv(32, 64), conv(64, 64))
    fusion = nn.Sequential(conv(64 + EMBEDDING_SIZE, 64, kernel=1), conv(64, 64))
    decoder = nn.Sequential(up(), conv(64, 32), up(), conv(32, 32), conv(32, 16),
                            conv(16, 2, last=True), up())
    return Colorizer(encoder, fusion, decoder)


MODELS = {"base": base_model, "arch3": architecture_3}
"""The networks written here, by the names of ``deepcolor.paper.ARCHITECTURES``."""


def build(name):
    if name not in MODELS:
        raise ValueError(f"the PyTorch reference has {', '.join(MODELS)}, not {name!r}")
    return MODELS[name]()


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())
