"""LawnNet: a compact encoder-decoder for NPUs (PyTorch; training only).

Only operators every NPU runtime maps well: 3x3 and 1x1 convolutions, batch normalisation (folded
into the convolutions at export), ReLU, bilinear resize and concatenation. About 100k
parameters; the input is 160x120 RGB (the camera's 320x240 reduced by two).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

from mower_segmentation.classes import CLASSES


def conv_bn_relu(c_in: int, c_out: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    """3x3 convolution, batch norm, ReLU."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride=stride, padding=dilation, dilation=dilation,
                  bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class LawnNet(nn.Module):
    """Three stride-2 stages down to 1/8, context at 1/8, two skip connections up."""

    def __init__(self, num_classes: int = len(CLASSES), width: int = 16) -> None:
        """``width`` scales every layer (16: about 100k parameters)."""
        super().__init__()
        w = width
        self.stem = conv_bn_relu(3, w, stride=2)  # 1/2
        self.down1 = nn.Sequential(conv_bn_relu(w, 2 * w, stride=2),
                                   conv_bn_relu(2 * w, 2 * w))  # 1/4
        self.down2 = nn.Sequential(conv_bn_relu(2 * w, 4 * w, stride=2),
                                   conv_bn_relu(4 * w, 4 * w, dilation=2),
                                   conv_bn_relu(4 * w, 4 * w, dilation=4))  # 1/8, wide context
        self.up1 = conv_bn_relu(4 * w + 2 * w, 2 * w)
        self.up2 = conv_bn_relu(2 * w + w, w)
        self.head = nn.Conv2d(w, num_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits at the input resolution."""
        s1 = self.stem(x)
        s2 = self.down1(s1)
        s3 = self.down2(s2)
        u = F.interpolate(s3, size=s2.shape[-2:], mode='bilinear', align_corners=False)
        u = self.up1(torch.cat([u, s2], dim=1))
        u = F.interpolate(u, size=s1.shape[-2:], mode='bilinear', align_corners=False)
        u = self.up2(torch.cat([u, s1], dim=1))
        logits = self.head(u)
        return F.interpolate(logits, size=x.shape[-2:], mode='bilinear', align_corners=False)


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
