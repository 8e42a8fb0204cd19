"""Network shapes at the supported resolutions, and rebuilding from stored arguments."""

from __future__ import annotations

from dataclasses import asdict

import pytest
import torch

from training.networks import (DiscriminatorConfig, GeneratorConfig, build_discriminator, build_generator,
                               build_refine, count_parameters, init_weights)


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
        (features,) = D(torch.cat([sketch, face], 1))
    assert face.shape == (2, 3, resolution, resolution)
    assert face.min() >= -1 and face.max() <= 1, "tanh output"
    assert features[-1].shape == (2, 1, patches, patches), "70x70 PatchGAN: one score per patch"


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


V2 = dict(resolution=128, ngf=8, upsample="resize", hint_channels=4, z_dim=8)


def test_v2_generator_takes_hints_and_a_code_and_defaults_them_to_zero():
    G = build_generator(asdict(GeneratorConfig(**V2))).eval()
    init_weights(G)
    sketch = torch.rand(3, 1, 128, 128) * 2 - 1
    with torch.no_grad():
        default = G(sketch)
        explicit = G(sketch, torch.zeros(3, 4, 128, 128), torch.zeros(3, 8))
        hinted = G(sketch, torch.ones(3, 4, 128, 128), None)
        varied = G(sketch, None, torch.randn(3, 8) * 3)
    assert default.shape == (3, 3, 128, 128)
    assert torch.equal(default, explicit), "missing inputs are zeros"
    assert not torch.allclose(default, hinted), "hints reach the output"
    assert not torch.allclose(default, varied), "z reaches the output"


def test_film_with_a_zero_code_is_the_identity():
    from training.networks import FiLM

    film = FiLM(8, 16)
    x = torch.randn(2, 16, 4, 4)
    assert torch.equal(film(x, torch.zeros(2, 8)), x)


def test_resize_upsampling_has_no_transposed_convolution_and_costs_less():
    v1 = build_generator(asdict(GeneratorConfig(resolution=128, ngf=32)))
    v2 = build_generator(asdict(GeneratorConfig(resolution=128, ngf=32, upsample="resize", hint_channels=4, z_dim=8)))
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in v2.modules())
    assert count_parameters(v2) < count_parameters(v1)


def test_multiscale_spectral_discriminator_returns_features_per_scale():
    D = build_discriminator(asdict(DiscriminatorConfig(ndf=8, in_channels=8, scales=2, spectral_norm=True)))
    init_weights(D)
    with torch.no_grad():
        outputs = D(torch.randn(2, 8, 128, 128))
    assert len(outputs) == 2
    assert outputs[0][-1].shape == (2, 1, 14, 14) and outputs[1][-1].shape == (2, 1, 6, 6)
    assert len(outputs[0]) == 5, "four feature stages and the logits"
    assert any(hasattr(m, "weight_orig") for m in D.modules()), "spectrally normalised"


def test_refine_stem_at_full_resolution_is_the_stem_on_the_space_to_depth():
    net = build_refine({"resolution": 256, "widths": [16, 48, 96, 160, 192]}).eval()
    x = torch.randn(2, 8, 256, 256, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        packed = net.stem(torch.nn.functional.pixel_unshuffle(x, 2))
        full = net.stem_at_full_resolution(x)
    assert full.shape == packed.shape == (2, 16, 128, 128)
    assert torch.allclose(full, packed, atol=1e-5)
