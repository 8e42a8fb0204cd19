"""pix2pix networks: a U-Net generator and a PatchGAN discriminator (Isola et al. 2017).

Built from a config dataclass so that a checkpoint can rebuild its model from the arguments it
stores, with nothing looked up by string at run time.
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


@dataclass
class DiscriminatorConfig:
    ndf: int = 32
    norm: str = "instance"
    layers: int = 3  # 3 layers: the 70x70 PatchGAN
    in_channels: int = 1 + 3


def norm_layer(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    raise ValueError(f"unknown norm {kind!r}: expected 'instance' or 'batch'")


class UNetBlock(nn.Module):
    """One level of the U-Net: down, the inner levels, up, and the skip connection."""

    def __init__(self, outer: int, inner: int, in_channels: int | None, sub: nn.Module | None,
                 norm: str, outermost: bool = False, dropout: float = 0.0, out_channels: int | None = None):
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
            up = [nn.ReLU(True), nn.ConvTranspose2d(up_in, out_channels or outer, 4, 2, 1), nn.Tanh()]
        else:
            up = [nn.ReLU(True), nn.ConvTranspose2d(up_in, outer, 4, 2, 1, bias=use_bias), norm_layer(norm, outer)]
            if dropout > 0:
                up.append(nn.Dropout(dropout))
        self.outermost = outermost
        self.model = nn.Sequential(*down, *([sub] if sub is not None else []), *up)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)


class UNetGenerator(nn.Module):
    def __init__(self, config: GeneratorConfig):
        super().__init__()
        levels = int(math.log2(config.resolution))
        if 2**levels != config.resolution or levels < 5:
            raise ValueError(f"resolution must be a power of two >= 32, got {config.resolution}")
        self.config = config
        ngf, norm = config.ngf, config.norm
        block = UNetBlock(ngf * 8, ngf * 8, None, None, norm)  # innermost, 1x1
        for _ in range(levels - 5):  # the 8*ngf levels in between, with dropout as in pix2pix
            block = UNetBlock(ngf * 8, ngf * 8, None, block, norm, dropout=config.dropout)
        for mult in (4, 2, 1):
            block = UNetBlock(ngf * mult, ngf * mult * 2, None, block, norm)
        self.model = UNetBlock(ngf, ngf, config.in_channels, block, norm, outermost=True,
                               out_channels=config.out_channels)

    def forward(self, sketch: torch.Tensor) -> torch.Tensor:
        return self.model(sketch)


class PatchDiscriminator(nn.Module):
    def __init__(self, config: DiscriminatorConfig):
        super().__init__()
        self.config = config
        ndf, use_bias = config.ndf, config.norm == "instance"
        layers: list[nn.Module] = [nn.Conv2d(config.in_channels, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, config.layers + 1):
            prev, mult = mult, min(2**n, 8)
            stride = 2 if n < config.layers else 1
            layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, stride, 1, bias=use_bias),
                       norm_layer(config.norm, ndf * mult), nn.LeakyReLU(0.2, True)]
        layers.append(nn.Conv2d(ndf * mult, 1, 4, 1, 1))
        self.model = nn.Sequential(*layers)

    def forward(self, sketch_and_face: torch.Tensor) -> torch.Tensor:
        return self.model(sketch_and_face)


def init_weights(net: nn.Module, gain: float = 0.02) -> None:
    """Normal(0, 0.02) init, as in pix2pix."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, gain)
            nn.init.zeros_(m.bias)


def build_generator(args: dict) -> UNetGenerator:
    return UNetGenerator(GeneratorConfig(**args))


def build_discriminator(args: dict) -> PatchDiscriminator:
    return PatchDiscriminator(DiscriminatorConfig(**args))


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


__all__ = ["GeneratorConfig", "DiscriminatorConfig", "UNetGenerator", "PatchDiscriminator",
           "init_weights", "build_generator", "build_discriminator", "count_parameters", "asdict"]
