"""Training: a few steps on a tiny set lower the L1 loss; checkpoints resume; no dataset -> a
message that says what to run first."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from training import export, train
from training.networks import build_discriminator, build_generator, init_weights

TINY = ["--resolution=64", "--ngf=8", "--ndf=8", "--batch_size=4", "--threads=2", "--log_every=5",
        "--sample_every=20", "--styles=hand,xdog", "--lr=1e-3"]


def fixed_batch(faces: np.ndarray):
    """The same sketches of the first 8 faces in every call (no flips)."""
    styles = ["hand", "xdog"] * 4
    batch = train.make_batch(faces[:8], styles, np.random.default_rng(99), flip=False, fixed_styles=styles)
    return batch.sketch, batch.face


def l1(G: torch.nn.Module, sketch: torch.Tensor, real: torch.Tensor) -> float:
    G.eval()
    with torch.no_grad():
        return float((G(sketch) - real).abs().mean())


def initial_generator(ckpt: dict) -> torch.nn.Module:
    """The generator as train.main initialises it (same seed, same order of random draws)."""
    torch.manual_seed(ckpt["config"]["seed"])
    G = build_generator(ckpt["generator_args"])
    D = build_discriminator(ckpt["discriminator_args"])
    init_weights(G)
    init_weights(D)
    return G


def test_a_few_steps_lower_the_l1_loss_and_resume(tiny_dataset, tmp_path, capsys):
    out = tmp_path / "run"
    assert train.main([f"--data={tiny_dataset}", f"--out={out}", "--max_steps=40", *TINY]) == 0
    ckpt = torch.load(out / "ckpt.pt", map_location="cpu", weights_only=False)
    assert ckpt["step"] == 40
    for key in ("generator_args", "discriminator_args", "config", "generator", "discriminator", "opt_g", "opt_d"):
        assert key in ckpt, f"checkpoint lacks {key}"

    faces = np.load(tiny_dataset / "train.npy")
    sketch, real = fixed_batch(faces)
    trained = build_generator(ckpt["generator_args"])
    trained.load_state_dict(ckpt["generator"])
    before, after = l1(initial_generator(ckpt), sketch, real), l1(trained, sketch, real)
    assert after < 0.8 * before, f"L1 on the training faces: {before:.3f} before, {after:.3f} after 40 steps"

    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == list(range(5, 41, 5))
    assert all(np.isfinite(r["loss_l1"]) and np.isfinite(r["loss_d"]) for r in log)
    assert (out / "samples" / "step_0000040.png").exists()

    # Resume: the same run continues from its checkpoint up to the new step limit.
    capsys.readouterr()
    assert train.main([f"--data={tiny_dataset}", f"--out={out}", "--max_steps=43", *TINY]) == 0
    assert "resumed" in capsys.readouterr().out
    assert torch.load(out / "ckpt.pt", map_location="cpu", weights_only=False)["step"] == 43


def test_baseline_preset_trains(tiny_dataset, tmp_path):
    out = tmp_path / "baseline"
    args = [f"--data={tiny_dataset}", f"--out={out}", "--preset=baseline", "--max_steps=2", *TINY]
    assert train.main(args) == 0
    ckpt = torch.load(out / "ckpt.pt", map_location="cpu", weights_only=False)
    assert ckpt["generator_args"]["norm"] == "batch" and ckpt["config"]["precision"] == "fp32"
    assert ckpt["generator_args"]["ngf"] == 8, "explicit options beat the preset"


def test_without_a_dataset_says_what_to_run(tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        train.main([f"--data={tmp_path / 'missing'}", f"--out={tmp_path / 'run'}", "--max_steps=1"])
    message = str(exit_info.value.code)
    assert "training.prepare" in message and "missing" in message


def test_unknown_option_is_an_error():
    with pytest.raises(SystemExit) as exit_info:
        train.parse_config(["--learning_rate=1"])
    assert "unknown argument" in str(exit_info.value.code)


def test_wrong_resolution_is_an_error(tiny_dataset, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        train.main([f"--data={tiny_dataset}", f"--out={tmp_path / 'run'}", "--resolution=128", "--max_steps=1"])
    assert "--size 128" in str(exit_info.value.code)


def test_learning_rate_decays_linearly_in_the_second_half():
    assert train.learning_rate_scale(0.25, 0.5) == 1.0
    assert train.learning_rate_scale(0.75, 0.5) == pytest.approx(0.5)
    assert train.learning_rate_scale(1.0, 0.5) == 0.0


def test_resuming_with_other_network_arguments_is_refused(tiny_dataset, tmp_path):
    out = tmp_path / "run"
    assert train.main([f"--data={tiny_dataset}", f"--out={out}", "--max_steps=1", *TINY]) == 0
    other = [a for a in TINY if not a.startswith("--ngf")] + ["--ngf=4"]
    with pytest.raises(SystemExit) as exit_info:
        train.main([f"--data={tiny_dataset}", f"--out={out}", "--max_steps=2", *other])
    assert "'ngf': (8, 4)" in str(exit_info.value.code)


def test_v2_preset_trains_with_hints_codes_and_augmentation(tiny_dataset, tmp_path):
    out = tmp_path / "v2"
    args = [f"--data={tiny_dataset}", f"--out={out}", "--preset=v2", "--max_steps=3", *TINY, "--log_every=1"]
    assert train.main(args) == 0
    ckpt = torch.load(out / "ckpt.pt", map_location="cpu", weights_only=False)
    g, d = ckpt["generator_args"], ckpt["discriminator_args"]
    assert (g["upsample"], g["hint_channels"], g["z_dim"]) == ("resize", 4, 8)
    assert (d["scales"], d["spectral_norm"], d["in_channels"]) == (2, True, 8)
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert all(np.isfinite(r[k]) for r in log for k in ("loss_d", "loss_fm", "loss_ms", "loss_l1"))
    assert any(r["loss_fm"] > 0 for r in log) and any(r["loss_ms"] > 0 for r in log)


def test_batches_made_by_worker_processes_train_the_same_model(tiny_dataset, tmp_path):
    out = tmp_path / "workers"
    args = [f"--data={tiny_dataset}", f"--out={out}", "--preset=v2", "--max_steps=3", *TINY, "--log_every=1",
            "--workers=2"]
    assert train.main(args) == 0
    ckpt = torch.load(out / "ckpt.pt", map_location="cpu", weights_only=False)
    assert ckpt["step"] == 3 and ckpt["config"]["workers"] == 2
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2, 3]
    assert all(np.isfinite(r[k]) for r in log for k in ("loss_d", "loss_fm", "loss_l1", "loss_hint"))


def test_an_averaged_generator_is_kept_snapshotted_resumed_and_shipped(tiny_dataset, tmp_path):
    out = tmp_path / "ema"
    args = [f"--data={tiny_dataset}", f"--out={out}", "--preset=v2", *TINY, "--ema=0.5", "--snapshot_every=4"]
    assert train.main([*args, "--max_steps=4"]) == 0
    ckpt = torch.load(out / "ckpt.pt", map_location="cpu", weights_only=False)
    raw, averaged = ckpt["generator"], ckpt["generator_ema"]
    assert raw.keys() == averaged.keys()
    assert any(not torch.equal(raw[k], averaged[k]) for k in raw), "the average is not the last weights"
    snapshot = torch.load(out / "snapshots" / "step_0000004.pt", map_location="cpu", weights_only=False)
    assert all(torch.equal(snapshot["generator"][k], averaged[k]) for k in averaged), "snapshots hold the average"
    net, _ = export.load_generator(out / "ckpt.pt")
    assert all(torch.equal(net.state_dict()[k], averaged[k]) for k in averaged), "export takes the average"

    assert train.main([*args, "--max_steps=5"]) == 0  # resumes the average too: it moves from there
    resumed = torch.load(out / "ckpt.pt", map_location="cpu", weights_only=False)
    for key, value in averaged.items():
        if value.is_floating_point():
            expected = 0.5 * value + 0.5 * resumed["generator"][key]
            assert torch.allclose(resumed["generator_ema"][key], expected, atol=1e-6), key


def test_each_batch_worker_draws_its_own_batches_reproducibly(tiny_dataset):
    stream = train.BatchStream(tiny_dataset, 4, ["hand", "xdog"], [0, 0], augmented=True, with_hints=True)

    def first_batches() -> list[tuple[torch.Tensor, ...]]:
        loader = torch.utils.data.DataLoader(stream, batch_size=None, num_workers=2, multiprocessing_context="spawn")
        batches = iter(loader)  # workers take turns: one batch from each
        return [next(batches), next(batches)]

    first, again = first_batches(), first_batches()
    for (sketch, hints, face), (sketch2, hints2, face2) in zip(first, again):
        assert sketch.shape == (4, 1, 64, 64) and hints.shape == (4, 4, 64, 64) and face.shape == (4, 3, 64, 64)
        assert torch.equal(sketch, sketch2) and torch.equal(hints, hints2) and torch.equal(face, face2)
        mask = hints[:, 3:]
        assert set(mask.unique().tolist()) <= {0.0, 1.0}
        assert (hints[:, :3] * (1 - mask)).abs().max() == 0, "colour only where the mask is set"
    assert not torch.equal(first[0][2], first[1][2]), "two workers made the same batch"


def test_styles_are_drawn_with_the_card_weights():
    weights = train.style_weights(["canny2017", "xdog", "hand", "drawn"])
    assert weights.tolist() == pytest.approx([0.15, 0.15, 0.3, 0.4])
    # A subset keeps the proportions between its styles: v1's three styles, and two of them.
    assert train.style_weights(["canny2017", "xdog", "hand"]).tolist() == pytest.approx([0.25, 0.25, 0.5])
    assert train.style_weights(["hand", "xdog"]).tolist() == pytest.approx([2 / 3, 1 / 3])


def test_hinge_and_mode_seeking_losses():
    real = [[torch.full((1, 1, 2, 2), 2.0)]]
    fake = [[torch.full((1, 1, 2, 2), -2.0)]]
    assert float(train.d_loss("hinge", real, fake)) == 0.0, "confident and right: no hinge loss"
    assert float(train.d_loss("hinge", fake, real)) == pytest.approx(6.0)
    assert float(train.g_gan_loss("hinge", fake)) == pytest.approx(2.0)
    a, b = torch.zeros(1, 3, 4, 4), torch.ones(1, 3, 4, 4)
    za, zb = torch.zeros(1, 8), torch.ones(1, 8)
    assert float(train.mode_seeking(a, a + 0.02, za, zb, target=0.1)) > float(train.mode_seeking(a, a + 0.05, za, zb, target=0.1)), \
        "faces further apart for the same codes cost less"
    assert float(train.mode_seeking(a, b, za, zb, target=0.1)) == 0.0, "no reward past the target"
