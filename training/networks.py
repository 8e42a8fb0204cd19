"""pix2pix networks: a U-Net generator and a PatchGAN discriminator (Isola et al. 2017).

Built from a config dataclass so that a checkpoint can rebuild its model from the arguments it
stores, with nothing looked up by string at run time. The defaults rebuild the v1 networks; v2
adds, each by its own config field:
- `upsample="resize"`: decoder levels that upsample bilinearly and then convolve (1x1 at the low
  resolution, 3x3 at the high one) instead of transposed convolutions, whose uneven kernel overlap
  paints a checkerboard (Odena et al. 2016);
- `hint_channels=4`: colour hints (RGB and a mask) concatenated to the sketch at the input;
- `z_dim=8`: a variation code that scales and shifts the normalised features of the deepest
  decoder levels (FiLM), where instance normalisation cannot wash it out; z = 0 leaves them as
  they are, so the zero code is the default face;
- discriminator `scales=2` and `spectral_norm=True`: a PatchGAN at full and at half resolution,
  spectrally normalised, returning every layer's features for feature matching.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass
class GeneratorConfig:
    resolution: int = 128  # square input side, a power of two; the U-Net goes down to 1x1
    ngf: int = 32
    norm: str = "instance"  # "instance" or "batch"
    dropout: float = 0.5
    in_channels: int = 1
    out_channels: int = 3
    upsample: str = "transpose"  # "transpose" (v1) or "resize"
    hint_channels: int = 0  # 0, or 4: RGB + mask, concatenated to the sketch
    z_dim: int = 0  # 0: no variation input
    z_levels: int = 4  # the deepest decoder levels (by output size 2, 4, 8, ...) that z modulates


@dataclass
class DiscriminatorConfig:
    ndf: int = 32
    norm: str = "instance"
    layers: int = 3  # 3 layers: the 70x70 PatchGAN
    in_channels: int = 1 + 3
    scales: int = 1  # PatchGANs at full, half, ... resolution
    spectral_norm: bool = False


def norm_layer(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    raise ValueError(f"unknown norm {kind!r}: expected 'instance' or 'batch'")


def up_layers(kind: str, channels_in: int, channels_out: int, bias: bool) -> list[nn.Module]:
    """Double the resolution: a transposed convolution (v1), or bilinear resizing between a 1x1
    convolution at the low resolution and a 3x3 one at the high resolution. Convolving the
    resized map costs 9x per output pixel; narrowing the channels first keeps it within the
    transposed convolution's budget."""
    if kind == "transpose":
        return [nn.ConvTranspose2d(channels_in, channels_out, 4, 2, 1, bias=bias)]
    if kind == "resize":
        return [nn.Conv2d(channels_in, channels_out, 1, bias=False),
                nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                nn.Conv2d(channels_out, channels_out, 3, 1, 1, bias=bias)]
    raise ValueError(f"unknown upsample {kind!r}: expected 'transpose' or 'resize'")


class FiLM(nn.Module):
    """x * (1 + gamma(z)) + beta(z), per channel, with no bias: z = 0 leaves x unchanged."""

    def __init__(self, z_dim: int, channels: int):
        super().__init__()
        self.project = nn.Linear(z_dim, 2 * channels, bias=False)
        nn.init.normal_(self.project.weight, 0.0, 0.02)

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        gamma, beta = self.project(z).unsqueeze(-1).unsqueeze(-1).chunk(2, dim=1)
        return x * (1 + gamma) + beta


class UNetBlock(nn.Module):
    """One level of the U-Net: down, the inner levels, up, and the skip connection."""

    def __init__(self, outer: int, inner: int, in_channels: int | None, sub: "UNetBlock | None",
                 norm: str, outermost: bool = False, dropout: float = 0.0, out_channels: int | None = None,
                 upsample: str = "transpose", z_dim: int = 0):
        super().__init__()
        in_channels = in_channels or outer
        use_bias = norm == "instance"  # BatchNorm has its own bias
        innermost = sub is None
        down = [nn.Conv2d(in_channels, inner, 4, 2, 1, bias=use_bias)]
        if not outermost:
            down = [nn.LeakyReLU(0.2, True)] + down
        if not outermost and not innermost:
            down.append(norm_layer(norm, inner))
        up_in = inner if innermost else inner * 2
        if outermost:
            up = [nn.ReLU(True), *up_layers(upsample, up_in, out_channels or outer, True), nn.Tanh()]
            after = []
        else:
            up = [nn.ReLU(True), *up_layers(upsample, up_in, outer, use_bias), norm_layer(norm, outer)]
            after = [nn.Dropout(dropout)] if dropout > 0 else []
        self.outermost = outermost
        self.down = nn.Sequential(*down)
        self.sub = sub
        self.up = nn.Sequential(*up)
        self.film = FiLM(z_dim, outer) if z_dim and not outermost else None
        self.after = nn.Sequential(*after)

    def forward(self, x: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        y = self.down(x)
        if self.sub is not None:
            y = self.sub(y, z)
        y = self.up(y)
        if self.film is not None:
            y = self.film(y, z)
        y = self.after(y)
        if self.outermost:
            return y
        return torch.cat([x, y], 1)


class UNetGenerator(nn.Module):
    def __init__(self, config: GeneratorConfig):
        super().__init__()
        levels = int(math.log2(config.resolution))
        if 2**levels != config.resolution or levels < 5:
            raise ValueError(f"resolution must be a power of two >= 32, got {config.resolution}")
        if config.hint_channels not in (0, 4):
            raise ValueError(f"hint_channels must be 0 or 4, got {config.hint_channels}")
        self.config = config
        ngf, norm, up = config.ngf, config.norm, config.upsample
        # Levels are built innermost first; level k (from 0) outputs (2**(k+1))^2 pixels.
        z_for = lambda k: config.z_dim if k < config.z_levels else 0  # noqa: E731
        block = UNetBlock(ngf * 8, ngf * 8, None, None, norm, upsample=up, z_dim=z_for(0))  # innermost, 1x1
        k = 1
        for _ in range(levels - 5):  # the 8*ngf levels in between, with dropout as in pix2pix
            block = UNetBlock(ngf * 8, ngf * 8, None, block, norm, dropout=config.dropout, upsample=up,
                              z_dim=z_for(k))
            k += 1
        for mult in (4, 2, 1):
            block = UNetBlock(ngf * mult, ngf * mult * 2, None, block, norm, upsample=up, z_dim=z_for(k))
            k += 1
        self.model = UNetBlock(ngf, ngf, config.in_channels + config.hint_channels, block, norm,
                               outermost=True, out_channels=config.out_channels, upsample=up)

    def forward(self, sketch: torch.Tensor, hints: torch.Tensor | None = None,
                z: torch.Tensor | None = None) -> torch.Tensor:
        x = sketch
        if self.config.hint_channels:
            if hints is None:
                hints = sketch.new_zeros(sketch.shape[0], self.config.hint_channels, *sketch.shape[2:])
            x = torch.cat([sketch, hints], 1)
        if self.config.z_dim and z is None:
            z = sketch.new_zeros(sketch.shape[0], self.config.z_dim)
        return self.model(x, z if self.config.z_dim else None)


class PatchDiscriminator(nn.Module):
    """A PatchGAN, or several at successively halved resolutions (`scales`). The forward pass
    returns, per scale, the features of every layer; the last is the patch logits."""

    def __init__(self, config: DiscriminatorConfig):
        super().__init__()
        self.config = config
        self.nets = nn.ModuleList(self._patchgan(config) for _ in range(config.scales))
        self.downsample = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)

    @staticmethod
    def _patchgan(config: DiscriminatorConfig) -> nn.ModuleList:
        sn = nn.utils.spectral_norm if config.spectral_norm else (lambda m: m)
        # Spectral norm bounds each layer already; a norm layer on top only slows it down.
        norm = (lambda c: nn.Identity()) if config.spectral_norm else (lambda c: norm_layer(config.norm, c))
        ndf, use_bias = config.ndf, config.norm == "instance" or config.spectral_norm
        stages: list[nn.Module] = [nn.Sequential(sn(nn.Conv2d(config.in_channels, ndf, 4, 2, 1)), nn.LeakyReLU(0.2, True))]
        mult = 1
        for n in range(1, config.layers + 1):
            prev, mult = mult, min(2**n, 8)
            stride = 2 if n < config.layers else 1
            stages.append(nn.Sequential(sn(nn.Conv2d(ndf * prev, ndf * mult, 4, stride, 1, bias=use_bias)),
                                        norm(ndf * mult), nn.LeakyReLU(0.2, True)))
        stages.append(sn(nn.Conv2d(ndf * mult, 1, 4, 1, 1)))
        return nn.ModuleList(stages)

    def forward(self, sketch_and_face: torch.Tensor) -> list[list[torch.Tensor]]:
        outputs = []
        x = sketch_and_face
        for i, net in enumerate(self.nets):
            if i:
                x = self.downsample(x)
            features, h = [], x
            for stage in net:
                h = stage(h)
                features.append(h)
            outputs.append(features)
        return outputs


@dataclass
class RefineConfig:
    """Face pipeline v3's refine network (issue 25): the warped exemplar made to follow the
    drawing. It works at half resolution behind a lossless space-to-depth of its 256 px inputs
    and adds its full-resolution correction to the exemplar, so the photo's own detail passes
    through untouched wherever the drawing agrees with it."""
    resolution: int = 256
    widths: tuple[int, ...] = (16, 48, 96, 160, 192)  # at 1/2, 1/4, 1/8, 1/16, 1/32 of the side
    sketch_channels: int = 1
    exemplar_channels: int = 3
    hint_channels: int = 4


def _conv(cin: int, cout: int, stride: int = 1, kernel: int = 3) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, stride, kernel // 2), nn.LeakyReLU(0.2, True))


class RefineUp(nn.Module):
    """Up one level: narrowed by a 1x1 at the low resolution (cheap), resized, the skip added,
    then a 3x3 at the high resolution."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.narrow = nn.Conv2d(cin, cout, 1)
        self.mix = _conv(cout, cout)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = nn.functional.interpolate(self.narrow(x), scale_factor=2.0, mode="bilinear", align_corners=False)
        return self.mix(x + skip)


class RefineNet(nn.Module):
    def __init__(self, config: RefineConfig):
        super().__init__()
        self.config = config
        w = config.widths
        if config.resolution % (2 ** len(w)) != 0:
            raise ValueError(f"resolution {config.resolution} must be a multiple of {2 ** len(w)}")
        cin = 4 * (config.sketch_channels + config.exemplar_channels + config.hint_channels)
        self.stem = _conv(cin, w[0])
        self.downs = nn.ModuleList(_conv(a, b, stride=2) for a, b in zip(w[:-1], w[1:]))
        self.middle = nn.Sequential(_conv(w[-1], w[-1]), _conv(w[-1], w[-1]))
        self.ups = nn.ModuleList(RefineUp(b, a) for a, b in zip(w[:-1], w[1:]))
        self.head = nn.Conv2d(w[0], 4 * 3, 3, 1, 1)
        # The untrained network gives the exemplar back exactly: the warped stage.
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def stem_at_full_resolution(self, x: torch.Tensor) -> torch.Tensor:
        """The stem's 3x3 on the space-to-depth of x, as one 6x6 stride-2 conv on x itself: the
        same sums, without the 6-D transpose that pixel_unshuffle exports to (ONNX Runtime's
        transpose of the 8 input channels took a quarter of the whole network's time)."""
        conv = self.stem[0]
        out, packed = conv.weight.shape[:2]
        # Packed input channel c*4 + 2*dy + dx, kernel tap (a, b) reads x at row 2*(i + a - 1) + dy.
        weight = conv.weight.view(out, packed // 4, 2, 2, 3, 3).permute(0, 1, 4, 2, 5, 3).reshape(out, packed // 4, 6, 6)
        return self.stem[1](nn.functional.conv2d(x, weight, conv.bias, stride=2, padding=2))

    def forward(self, sketch: torch.Tensor, exemplar: torch.Tensor, hints: torch.Tensor) -> torch.Tensor:
        skips = [self.stem_at_full_resolution(torch.cat([sketch, exemplar, hints], 1))]
        for down in self.downs:
            skips.append(down(skips[-1]))
        y = self.middle(skips.pop())
        for up in reversed(self.ups):
            y = up(y, skips.pop())
        correction = nn.functional.pixel_shuffle(self.head(y), 2)
        return torch.clamp(exemplar + correction, -1.0, 1.0)


def build_refine(args: dict) -> RefineNet:
    args = dict(args)
    if "widths" in args:
        args["widths"] = tuple(args["widths"])
    return RefineNet(RefineConfig(**args))


def init_weights(net: nn.Module, gain: float = 0.02) -> None:
    """Normal(0, 0.02) init, as in pix2pix."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            weight = getattr(m, "weight_orig", m.weight)  # spectral norm keeps the raw weight there
            nn.init.normal_(weight, 0.0, gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, gain)
            nn.init.zeros_(m.bias)


def build_generator(args: dict) -> UNetGenerator:
    return UNetGenerator(GeneratorConfig(**args))


def build_discriminator(args: dict) -> PatchDiscriminator:
    return PatchDiscriminator(DiscriminatorConfig(**args))


def shipped_generator_state(checkpoint: dict) -> dict[str, torch.Tensor]:
    """The weights to evaluate and export from a checkpoint or snapshot: the running average of
    the generator where training kept one (--ema), else the generator itself."""
    return checkpoint.get("generator_ema") or checkpoint["generator"]


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


__all__ = ["GeneratorConfig", "DiscriminatorConfig", "RefineConfig", "RefineNet", "build_refine", "UNetGenerator", "PatchDiscriminator",
           "FiLM", "init_weights", "build_generator", "build_discriminator", "count_parameters", "asdict"]
