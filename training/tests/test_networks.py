"""Network shapes at the supported resolutions, and rebuilding from stored arguments."""

from __future__ import annotations

from dataclasses import asdict

import pytest
import torch

from training.networks import (DiscriminatorConfig, GeneratorConfig, build_discriminator, build_generator,
                               count_parameters, init_weights)


@pytest.mark.parametrize("resolution, patches", [(128, 14), (256, 30)])
@pytest.mark.parametrize("norm", ["instance", "batch"])
def test_output_shapes(resolution, patches, norm):
    G = build_generator(asdict(GeneratorConfig(resolution=resolution, ngf=8, norm=norm)))
    D = build_discriminator(asdict(DiscriminatorConfig(ndf=8, norm=norm)))
    init_weights(G)
    init_weights(D)
    sketch = torch.rand(2, 1, resolution, resolution) * 2 - 1
    with torch.no_grad():
        face = G(sketch)
        score = D(torch.cat([sketch, face], 1))
    assert face.shape == (2, 3, resolution, resolution)
    assert face.min() >= -1 and face.max() <= 1, "tanh output"
    assert score.shape == (2, 1, patches, patches), "70x70 PatchGAN: one score per patch"


def test_eval_mode_handles_a_batch_of_one():
    for norm in ("instance", "batch"):
        G = build_generator(asdict(GeneratorConfig(resolution=128, ngf=8, norm=norm))).eval()
        with torch.no_grad():
            assert G(torch.ones(1, 1, 128, 128)).shape == (1, 3, 128, 128)


def test_rebuilt_from_stored_arguments():
    args = asdict(GeneratorConfig(resolution=128, ngf=8))
    G = build_generator(args)
    H = build_generator(dict(args))
    H.load_state_dict(G.state_dict())
    assert count_parameters(G) == count_parameters(H)


def test_default_generator_fits_the_model_budget():
    G = build_generator(asdict(GeneratorConfig()))  # 128 px, ngf 32, InstanceNorm
    assert count_parameters(G) * 4 < 50e6, "models/ must stay under 50 MB"


@pytest.mark.parametrize("resolution", [100, 16])
def test_bad_resolution_is_an_error(resolution):
    with pytest.raises(ValueError, match="power of two"):
        build_generator(asdict(GeneratorConfig(resolution=resolution)))


def test_bad_norm_is_an_error():
    with pytest.raises(ValueError, match="unknown norm"):
        build_generator(asdict(GeneratorConfig(norm="group")))
