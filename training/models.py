"""The learned upsamplers Upscope trains and ships (PyTorch; used only for training).

Both networks work on luma in [0, 1] and predict a *correction* that is added to a fixed
bicubic upsampling of their input: ``hr = bicubic(lr) + net(lr)``. The network itself
outputs only the correction, so the shipped ONNX files hold no resize operator and the
bicubic base is Upscope's own (`core.upsample(..., "bicubic")`, OpenCV's a = -0.75, the
same as PyTorch's ``F.interpolate(mode="bicubic")`` used here in training).

- `ESPCN`: convolutions on the low-resolution grid, then a sub-pixel convolution (a
  convolution to ``r * r`` channels and a pixel shuffle; Shi et al. 2016).
- `FSRCNN`: feature extraction, shrinking, mapping, expanding, then a learned transposed
  convolution (Dong et al. 2016). Its kernel is ``3r`` with stride ``r`` and padding
  ``r``, so the output is exactly ``r`` times the input and every output pixel sees the
  same number of taps (no checkerboard by construction). `FSRCNN.export_form` rewrites
  that transposed convolution as an exactly equal convolution plus pixel shuffle, which
  OpenCV's DNN module runs 10-40x faster than its ConvTranspose.
"""

from __future__ import annotations

import torch
from torch import nn


class ESPCN(nn.Module):
    """Sub-pixel convolution network: 5x5 (32), 3x3 (16), 3x3 (r^2), pixel shuffle."""

    def __init__(self, scale: int) -> None:
        super().__init__()
        self.scale = scale
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 5, padding=2), nn.Tanh(),
            nn.Conv2d(32, 16, 3, padding=1), nn.Tanh(),
            nn.Conv2d(16, scale * scale, 3, padding=1),
            nn.PixelShuffle(scale),
        )

    def forward(self, lr: torch.Tensor) -> torch.Tensor:
        """``(N, 1, h, w)`` luma to the ``(N, 1, h r, w r)`` correction."""
        return self.body(lr)

    def export_form(self) -> nn.Module:
        return self


class FSRCNN(nn.Module):
    """FSRCNN-style: 5x5 (d), 1x1 shrink (s), m x 3x3 (s), 1x1 expand (d), PReLU after
    each, then a learned transposed convolution ``3r x 3r``, stride ``r``, padding ``r``."""

    def __init__(self, scale: int, d: int = 32, s: int = 12, m: int = 2) -> None:
        super().__init__()
        self.scale = scale
        layers: list[nn.Module] = [nn.Conv2d(1, d, 5, padding=2), nn.PReLU(d), nn.Conv2d(d, s, 1), nn.PReLU(s)]
        for _ in range(m):
            layers += [nn.Conv2d(s, s, 3, padding=1), nn.PReLU(s)]
        layers += [nn.Conv2d(s, d, 1), nn.PReLU(d)]
        self.body = nn.Sequential(*layers)
        self.deconv = nn.ConvTranspose2d(d, 1, 3 * scale, stride=scale, padding=scale)
        for module in self.modules():  # He initialisation: PyTorch's default barely learns here
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, a=0.25, nonlinearity="leaky_relu")
                nn.init.zeros_(module.bias)
        nn.init.normal_(self.deconv.weight, std=1e-3)
        nn.init.zeros_(self.deconv.bias)

    def forward(self, lr: torch.Tensor) -> torch.Tensor:
        return self.deconv(self.body(lr))

    def export_form(self) -> nn.Module:
        """The same function with the transposed convolution as a 3x3 convolution to
        ``r * r`` channels plus a pixel shuffle.

        With kernel ``3r``, stride ``r`` and padding ``r``, output pixel ``t = q r + phase``
        is ``sum_j in[q + 1 - j] * w[phase + j r]`` for ``j = 0, 1, 2`` per axis: a 3x3
        correlation (padding 1) with the taps ``w[phase::r]`` reversed, one output channel
        per phase, in the order a pixel shuffle reads them.
        """
        r = self.scale
        weight = self.deconv.weight.detach()  # (d, 1, 3r, 3r)
        conv = nn.Conv2d(weight.shape[0], r * r, 3, padding=1)
        with torch.no_grad():
            for py in range(r):
                for px in range(r):
                    taps = weight[:, 0, py::r, px::r]  # (d, 3, 3): j = 0, 1, 2
                    conv.weight[py * r + px] = taps.flip(1).flip(2)
            conv.bias.fill_(float(self.deconv.bias.detach()[0]))
        return nn.Sequential(self.body, conv, nn.PixelShuffle(r))


FAMILIES = {"espcn": ESPCN, "fsrcnn": FSRCNN}


def build(family: str, scale: int) -> nn.Module:
    """A new, initialised network of ``family`` (``"espcn"`` or ``"fsrcnn"``) for ``scale``."""
    return FAMILIES[family](scale)
