"""Train the pix2pix generator on faces and their sketches.

    python -m training.train --data=training/data/synthetic --out=training/runs/default --time_budget_min=60
    python -m training.train --preset=baseline --out=training/runs/baseline --time_budget_min=60
    torchrun --nproc_per_node=4 -m training.train --data=... --out=...      # several GPUs (DDP)

Any Config field can be overridden as --name=value. Training resumes from OUT/ckpt.pt when it
exists. Adam 2e-4, betas (0.5, 0.999); the learning rate decays linearly to zero over the second
half of the run (by steps or by the time budget, whichever ends first).

Presets:
- default (v1): U-Net with transposed convolutions, PatchGAN, GAN (BCE) + 100 x L1;
- baseline: the reference pix2pix recipe (ngf 64, BatchNorm, fp32);
- v2: resize-convolution U-Net taking colour hints and a variation code z; hinge loss with a
  spectrally normalised PatchGAN at two scales, discriminator feature matching (10), L1 (10) and
  a mode-seeking term (Mao et al. 2019) on pairs of z; faces reframed and sketches roughened.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn import functional as F
from tqdm import tqdm

from training import augment, hints as hint_sim, landmarks, sketches
from training.networks import (DiscriminatorConfig, GeneratorConfig, build_discriminator,
                               build_generator, init_weights)


@dataclass
class Config:
    data: str = "training/data/synthetic"
    out: str = "training/runs/default"
    resolution: int = 128
    ngf: int = 32
    ndf: int = 32
    norm: str = "instance"
    precision: str = "auto"  # "bf16" autocast, "fp32", or "auto": bf16 where the hardware has it
    batch_size: int = 8
    lr: float = 2e-4
    beta1: float = 0.5
    lambda_l1: float = 100.0
    max_steps: int = 0  # 0: no step limit
    time_budget_min: float = 0.0  # 0: no time limit; counts across resumes
    decay_start: float = 0.5  # fraction of the run after which the learning rate decays linearly
    styles: str = "canny2017,xdog,hand"  # drawn with sketches.STYLE_WEIGHTS, renormalised
    # v2 (0 / "transpose" / "bce" keep the v1 recipe). Flags are ints: bool("0") is True.
    upsample: str = "transpose"
    hint_channels: int = 0
    z_dim: int = 0
    gan_loss: str = "bce"  # "bce" or "hinge"
    d_scales: int = 1
    spectral_norm: int = 0
    lambda_fm: float = 0.0
    lambda_ms: float = 0.0
    ms_target: float = 0.1  # face distance per code distance (mean abs, [-1, 1] units) worth rewarding
    augment: int = 0  # reframe faces and roughen sketches (training/augment.py)
    sample_every: int = 500
    checkpoint_every_min: float = 5.0
    snapshot_every: int = 0  # also keep the generator alone every N steps (OUT/snapshots/), 0: never
    log_every: int = 50
    threads: int = 0  # torch intra-op threads on the CPU; 0: torch's default
    # Processes that make the batches (sketches, augmentation, hints: ~20 ms per image on one
    # core) beside the training step; 0: made in the training loop itself. A GPU outruns one.
    workers: int = 0
    seed: int = 0
    preset: str = "default"
    # A new run's generator starts from these weights: an exported model (.onnx) or a checkpoint
    # (.pt). The discriminator and optimisers start fresh. Ignored when OUT/ckpt.pt resumes.
    init_generator: str = ""
    lambda_hint: float = 0.0  # extra L1 inside the hinted pixels (mean over them): follow the hints
    # Keep an exponential moving average of the generator's weights (decay per step; 0: none).
    # Snapshots, evaluation and export use the average: a GAN's generator swings from step to step
    # (the face rate of run 2's snapshots ranged 0.39-0.52 on the hand style), its average less.
    ema: float = 0.0


PRESETS = {
    "default": {},
    # The reference pix2pix recipe: U-Net ngf 64, BatchNorm, PatchGAN ndf 64, fp32.
    "baseline": {"ngf": 64, "ndf": 64, "norm": "batch", "precision": "fp32", "out": "training/runs/baseline"},
    "v2": {"data": "training/data/utkface", "out": "training/runs/v2", "upsample": "resize", "hint_channels": 4,
           "z_dim": 8, "gan_loss": "hinge", "d_scales": 2, "spectral_norm": 1, "lambda_fm": 10.0,
           "lambda_l1": 10.0, "lambda_ms": 1.0, "augment": 1, "styles": "canny2017,xdog,hand,drawn"},
}


def has_fast_bf16(device: torch.device) -> bool:
    """bf16 autocast pays where the hardware computes in bf16: a GPU, or a CPU with AVX-512 BF16 or
    AMX. Elsewhere it is emulated: measured over 10x slower than fp32 on an AVX2-only CPU here."""
    if device.type == "cuda":
        return True
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def parse_config(argv: list[str]) -> Config:
    fields = {f.name: f for f in dataclasses.fields(Config)}
    overrides: dict[str, str] = {}
    for arg in argv:
        if arg in ("-h", "--help"):
            print(__doc__)
            print("options (defaults):", json.dumps(asdict(Config()), indent=2))
            sys.exit(0)
        key, sep, value = arg.removeprefix("--").partition("=")
        if not arg.startswith("--") or not sep or key not in fields:
            sys.exit(f"error: unknown argument {arg!r}; expected --name=value with name one of: {', '.join(fields)}")
        overrides[key] = value
    preset = overrides.get("preset", "default")
    if preset not in PRESETS:
        sys.exit(f"error: unknown preset {preset!r}; expected one of {', '.join(PRESETS)}")
    values = {**PRESETS[preset], **overrides}
    config = Config()
    for key, value in values.items():
        kind = type(getattr(config, key))
        setattr(config, key, kind(value) if not isinstance(value, kind) else value)
    return config


def load_split(data: Path, split: str) -> np.ndarray:
    path = data / f"{split}.npy"
    if not path.exists():
        sys.exit(f"error: no dataset at {path}. Make one first, e.g.\n"
                 f"  python -m training.prepare --synthetic 24000 --out {data}\n"
                 f"  python -m training.prepare --photos DIR --out {data}")
    return np.load(path, mmap_mode="r")


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 [N, H, W] or [N, H, W, C] -> float [N, C, H, W] in [-1, 1]."""
    t = torch.from_numpy(np.ascontiguousarray(images)).float() / 127.5 - 1
    return t.unsqueeze(1) if t.dim() == 3 else t.permute(0, 3, 1, 2)


@dataclass
class Batch:
    sketch: torch.Tensor  # [N, 1, H, W]
    hints: torch.Tensor  # [N, 4, H, W] (all zero when the model takes none)
    face: torch.Tensor  # [N, 3, H, W]


def style_weights(styles: list[str]) -> np.ndarray:
    weights = np.array([sketches.STYLE_WEIGHTS[sketches.STYLES.index(s)] for s in styles])
    return weights / weights.sum()


def make_batch(faces: np.ndarray, styles: list[str], rng: np.random.Generator, flip: bool = True,
               fixed_styles: list[str] | None = None, augmented: bool = False, with_hints: bool = False,
               landmarks: tuple[np.ndarray, dict] | None = None) -> Batch:
    """A sketch style per sample (sketches.STYLE_WEIGHTS); with `augmented`, the face is reframed
    first and the sketch roughened after; with `with_hints`, colour hints simulated from the face.
    `landmarks` (points [N, 478, 2] of these faces, parts) feed the "drawn" style; they are moved
    with the face."""
    weights = style_weights(styles)
    out_faces, out_sketches, out_hints = [], [], []
    for i, face in enumerate(faces):
        face = np.asarray(face)
        size = face.shape[0]
        points = np.array(landmarks[0][i], np.float32) if landmarks is not None else None
        if flip and rng.random() < 0.5:
            face = face[:, ::-1]
            if points is not None:
                points[:, 0] = size - points[:, 0]
        face = np.ascontiguousarray(face)
        frame = augment.Frame(0.0, 0.0, float(size))
        if augmented:
            face, frame = augment.reframe(face, rng)
        if points is not None:
            points = points * (frame.side / size) + np.float32([frame.x, frame.y])
        style = fixed_styles[i] if fixed_styles else str(rng.choice(styles, p=weights))
        sketch = sketches.make_sketch(face, style, rng, None if points is None else (points, landmarks[1]))
        if augmented:
            sketch = augment.roughen(sketch, rng)
        out_sketches.append(sketch)
        out_faces.append(face)
        if with_hints:
            out_hints.append(hint_sim.simulate(face, frame, rng))
    size = faces.shape[1]
    hints = (torch.from_numpy(np.stack(out_hints)) if with_hints else torch.zeros(len(faces), 4, size, size))
    return Batch(to_tensor(np.stack(out_sketches)), hints, to_tensor(np.stack(out_faces)))


class BatchStream(torch.utils.data.IterableDataset):
    """Endless training batches for DataLoader workers: each worker walks its own permutations
    of the faces with its own generator, seeded by (seed, worker)."""

    def __init__(self, data: Path, batch_size: int, styles: list[str], seed: list[int], augmented: bool,
                 with_hints: bool):
        super().__init__()
        self.data, self.batch_size, self.styles, self.seed = data, batch_size, styles, seed
        self.augmented, self.with_hints = augmented, with_hints

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        worker = info.id if info else 0
        torch.set_num_threads(1)
        cv2.setNumThreads(1)
        faces = load_split(self.data, "train")  # opened here: a memory map does not pickle as one
        marks = landmarks.load(self.data, "train")
        rng = np.random.default_rng([*self.seed, worker])
        while True:
            order = rng.permutation(len(faces))
            for start in range(0, len(order) - self.batch_size + 1, self.batch_size):
                idx = np.sort(order[start : start + self.batch_size])
                batch = make_batch(faces[idx], self.styles, rng, augmented=self.augmented,
                                   with_hints=self.with_hints,
                                   landmarks=None if marks is None else (marks[0][idx], marks[1]))
                yield batch.sketch, batch.hints, batch.face


def d_loss(kind: str, real: list[list[torch.Tensor]], fake: list[list[torch.Tensor]]) -> torch.Tensor:
    """Discriminator loss, averaged over scales; the last feature of each scale is its logits."""
    total = 0.0
    for r, f in zip(real, fake):
        r, f = r[-1].float(), f[-1].float()
        if kind == "hinge":
            total = total + torch.relu(1 - r).mean() + torch.relu(1 + f).mean()
        else:
            total = total + 0.5 * (F.binary_cross_entropy_with_logits(r, torch.ones_like(r))
                                   + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f)))
    return total / len(real)


def g_gan_loss(kind: str, fake: list[list[torch.Tensor]]) -> torch.Tensor:
    total = 0.0
    for f in fake:
        f = f[-1].float()
        total = total + (-f.mean() if kind == "hinge" else F.binary_cross_entropy_with_logits(f, torch.ones_like(f)))
    return total / len(fake)


def feature_matching(real: list[list[torch.Tensor]], fake: list[list[torch.Tensor]]) -> torch.Tensor:
    """L1 between the discriminator's inner features of real and generated pairs (pix2pixHD)."""
    total, count = 0.0, 0
    for r, f in zip(real, fake):
        for rf, ff in zip(r[:-1], f[:-1]):
            total = total + F.l1_loss(ff.float(), rf.detach().float())
            count += 1
    return total / max(count, 1)


def mode_seeking(fake_a: torch.Tensor, fake_b: torch.Tensor, z_a: torch.Tensor, z_b: torch.Tensor,
                 target: float) -> torch.Tensor:
    """Mao et al. 2019: reward faces that differ as their codes do. Their 1 / ratio term is
    unbounded and, early in training, outweighs everything else (the generator paints colour
    blobs that follow z and ignore the sketch); this one pushes the ratio up to `target` and no
    further, and lies in [0, 1]."""
    ratio = (fake_a.float() - fake_b.float()).abs().mean() / (z_a - z_b).abs().mean()
    return torch.relu(1 - ratio / target)


def to_uint8(t: torch.Tensor) -> np.ndarray:
    """[N, C, H, W] in [-1, 1] -> uint8 [N, H, W, 3]."""
    t = ((t.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu()
    if t.shape[1] == 1:
        t = t.repeat(1, 3, 1, 1)
    return t.permute(0, 2, 3, 1).numpy()


def hints_over_sketch(sketch: torch.Tensor, hints: torch.Tensor) -> torch.Tensor:
    """The sketch as RGB with the hinted pixels painted in their colour, for pictures."""
    rgb = sketch.repeat(1, 3, 1, 1)
    mask = hints[:, 3:4] > 0.5
    return torch.where(mask, hints[:, :3], rgb)


def save_grid(path: Path, sketch: torch.Tensor, fake: torch.Tensor, real: torch.Tensor) -> None:
    """One row per sample: sketch | generated | real."""
    rows = [np.concatenate(trio, 1) for trio in zip(to_uint8(sketch), to_uint8(fake), to_uint8(real))]
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(np.concatenate(rows, 0), cv2.COLOR_RGB2BGR))


def generator_state_from_onnx(path: Path, generator: nn.Module) -> dict[str, torch.Tensor]:
    """The generator's state dict from an exported model's initializers. The exporter keeps
    parameter names (behind the export wrapper's `net.` prefix) except for the FiLM projections,
    which it folds into transposed MatMul constants numbered in execution order: innermost first."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    initializers = {i.name.removeprefix("net."): numpy_helper.to_array(i) for i in model.graph.initializer}
    state = {}
    for key, value in generator.state_dict().items():
        if key in initializers:
            state[key] = torch.from_numpy(initializers.pop(key).copy())
    missing = [k for k in generator.state_dict() if k not in state]
    folded = sorted((name for name in initializers if name.startswith("onnx::MatMul_")),
                    key=lambda name: int(name.rsplit("_", 1)[1]))
    film = sorted(missing, key=lambda k: -k.count("sub."))  # deepest (first executed) first
    if len(film) != len(folded) or not all(k.endswith("film.project.weight") for k in film):
        raise ValueError(f"{path}: cannot map its weights onto this generator: parameters without a "
                         f"counterpart {missing}, unnamed constants {folded}")
    for key, name in zip(film, folded):
        state[key] = torch.from_numpy(initializers[name].T.copy())
    for key, value in generator.state_dict().items():
        if tuple(state[key].shape) != tuple(value.shape):
            raise ValueError(f"{path}: {key} is {tuple(state[key].shape)}, this generator wants {tuple(value.shape)}")
    return state


def save_atomically(state: dict, path: Path) -> None:
    """torch.save through a temporary file beside `path`: never a half-written checkpoint."""
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def learning_rate_scale(progress: float, decay_start: float) -> float:
    if progress <= decay_start:
        return 1.0
    return max(0.0, (1.0 - progress) / (1.0 - decay_start))


def git_commit() -> str:
    try:
        import subprocess
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except Exception:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    config = parse_config(sys.argv[1:] if argv is None else argv)
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if distributed:
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    rank = dist.get_rank() if distributed else 0
    world = dist.get_world_size() if distributed else 1
    if torch.cuda.is_available():
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(device)
        torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick its fastest kernels
    else:
        device = torch.device("cpu")
        if config.threads > 0:
            torch.set_num_threads(config.threads)
    is_main = rank == 0

    data = Path(config.data)
    train_faces = load_split(data, "train")
    val_faces = load_split(data, "val")
    if train_faces.shape[1] != config.resolution:
        sys.exit(f"error: dataset {data} is {train_faces.shape[1]} px but resolution is {config.resolution}; "
                 f"run prepare with --size {config.resolution}")
    styles = [s for s in config.styles.split(",") if s]
    unknown = set(styles) - set(sketches.STYLES)
    if unknown:
        sys.exit(f"error: unknown sketch styles {sorted(unknown)}; expected some of {sketches.STYLES}")

    torch.manual_seed(config.seed + rank)
    if config.gan_loss not in ("bce", "hinge"):
        sys.exit(f"error: unknown gan_loss {config.gan_loss!r}; expected bce or hinge")
    generator_args = asdict(GeneratorConfig(resolution=config.resolution, ngf=config.ngf, norm=config.norm,
                                            upsample=config.upsample, hint_channels=config.hint_channels,
                                            z_dim=config.z_dim))
    discriminator_args = asdict(DiscriminatorConfig(ndf=config.ndf, norm=config.norm,
                                                    in_channels=1 + config.hint_channels + 3,
                                                    scales=config.d_scales, spectral_norm=bool(config.spectral_norm)))
    G = build_generator(generator_args).to(device)
    D = build_discriminator(discriminator_args).to(device)
    init_weights(G)
    init_weights(D)
    opt_g = torch.optim.Adam(G.parameters(), lr=config.lr, betas=(config.beta1, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=config.lr, betas=(config.beta1, 0.999))

    out = Path(config.out)
    checkpoint_path = out / "ckpt.pt"
    step, elapsed_before = 0, 0.0
    rng = np.random.default_rng(config.seed + 1000 * rank)
    if checkpoint_path.exists():
        ckpt = torch.load(checkpoint_path, map_location=device, weights_only=False)
        changed = {key: (ckpt_args.get(key), args[key])
                   for ckpt_args, args in ((ckpt["generator_args"], generator_args),
                                           (ckpt["discriminator_args"], discriminator_args))
                   for key in args if ckpt_args.get(key) != args[key]}
        if changed:
            sys.exit(f"error: {checkpoint_path} was trained with other network arguments "
                     f"(checkpoint, now): {changed}. Resume with the same ones, or use another --out")
        G.load_state_dict(ckpt["generator"])
        D.load_state_dict(ckpt["discriminator"])
        opt_g.load_state_dict(ckpt["opt_g"])
        opt_d.load_state_dict(ckpt["opt_d"])
        step, elapsed_before = ckpt["step"], ckpt["elapsed_s"]
        rng = np.random.default_rng([config.seed + 1000 * rank, step])
        if is_main:
            print(f"resumed from {checkpoint_path} at step {step} ({elapsed_before / 60:.1f} min trained)")
    elif config.init_generator:
        source = Path(config.init_generator)
        state = (generator_state_from_onnx(source, G) if source.suffix == ".onnx"
                 else torch.load(source, map_location=device, weights_only=False)["generator"])
        G.load_state_dict(state)
        if is_main:
            print(f"generator starts from {source}")
    ema_g = None
    if config.ema > 0:
        ema_g = copy.deepcopy(G).eval().requires_grad_(False)
        if checkpoint_path.exists() and "generator_ema" in ckpt:
            ema_g.load_state_dict(ckpt["generator_ema"])
    if distributed:
        G = nn.parallel.DistributedDataParallel(G, device_ids=[device.index] if device.type == "cuda" else None)
        D = nn.parallel.DistributedDataParallel(D, device_ids=[device.index] if device.type == "cuda" else None)
    bare_g = G.module if distributed else G
    bare_d = D.module if distributed else D
    shipped_g = ema_g if ema_g is not None else bare_g  # what samples, snapshots, evaluate and export show

    commit = git_commit()  # the code this run started with, not whatever HEAD is when it saves

    def save_checkpoint(elapsed: float) -> None:
        if not is_main:
            return
        out.mkdir(parents=True, exist_ok=True)
        save_atomically({
            "generator_args": generator_args, "discriminator_args": discriminator_args,
            "config": asdict(config), "step": step, "elapsed_s": elapsed, "commit": commit,
            "generator": bare_g.state_dict(), "discriminator": bare_d.state_dict(),
            "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(),
            **({"generator_ema": ema_g.state_dict(), "ema": config.ema} if ema_g is not None else {}),
        }, checkpoint_path)

    # Fixed validation samples, one row per style, for the sample grids.
    sample_faces = val_faces[: 2 * len(styles)]
    sample_styles = [styles[i % len(styles)] for i in range(len(sample_faces))]
    val_marks = landmarks.load(data, "val")
    sample = make_batch(sample_faces, styles, np.random.default_rng(7), flip=False, fixed_styles=sample_styles,
                        augmented=bool(config.augment), with_hints=config.hint_channels > 0,
                        landmarks=None if val_marks is None else (val_marks[0][: len(sample_faces)], val_marks[1]))
    train_marks = landmarks.load(data, "train")
    with_hints = config.hint_channels > 0
    z_dim = config.z_dim
    ms_pairs = config.batch_size // 2 if z_dim and config.lambda_ms > 0 else 0

    def condition(b_sketch: torch.Tensor, b_hints: torch.Tensor) -> torch.Tensor:
        return torch.cat([b_sketch, b_hints], 1) if with_hints else b_sketch

    l1 = nn.L1Loss()
    bf16 = config.precision == "bf16" or (config.precision == "auto" and has_fast_bf16(device))
    if is_main:
        print(f"precision: {'bf16 autocast' if bf16 else 'fp32'} ({config.precision})")
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16)
    log_path = out / "log.jsonl"
    out.mkdir(parents=True, exist_ok=True)
    if is_main:
        (out / "config.json").write_text(json.dumps(asdict(config), indent=2))

    stream = None
    if config.workers > 0:
        stream = iter(torch.utils.data.DataLoader(
            BatchStream(data, config.batch_size, styles, [config.seed + 1000 * rank, step], bool(config.augment),
                        with_hints),
            batch_size=None, num_workers=config.workers, pin_memory=device.type == "cuda", prefetch_factor=4,
            persistent_workers=True, multiprocessing_context="spawn"))  # a forked OpenCV pool deadlocks
    start = time.time()
    last_checkpoint = start
    order = rng.permutation(len(train_faces))
    cursor = 0
    budget_s = config.time_budget_min * 60
    window_start, window_images = time.time(), 0
    bar = tqdm(initial=step, total=config.max_steps or None, desc=config.preset, unit="step",
               disable=not is_main or not sys.stderr.isatty())  # a log file gets log.jsonl, not bars
    G.train()
    D.train()
    while True:
        elapsed = elapsed_before + time.time() - start
        progress = max(step / config.max_steps if config.max_steps else 0.0,
                       elapsed / budget_s if budget_s else 0.0)
        if distributed:  # clocks differ per rank: agree on one progress, or a rank that stops
            shared = torch.tensor([progress], device=device)  # early leaves the others hanging
            dist.all_reduce(shared, op=dist.ReduceOp.MAX)  # in their next gradient all-reduce
            progress = shared.item()
        if progress >= 1.0:
            break
        scale = learning_rate_scale(progress, config.decay_start)
        for opt in (opt_g, opt_d):
            for group in opt.param_groups:
                group["lr"] = config.lr * scale

        if stream is not None:
            sketch, hints, real = (t.to(device, non_blocking=True) for t in next(stream))
        else:
            if cursor + config.batch_size > len(order):
                order, cursor = rng.permutation(len(train_faces)), 0
            idx = np.sort(order[cursor : cursor + config.batch_size])
            cursor += config.batch_size
            batch = make_batch(train_faces[idx], styles, rng, augmented=bool(config.augment), with_hints=with_hints,
                               landmarks=None if train_marks is None else (train_marks[0][idx], train_marks[1]))
            sketch, hints, real = batch.sketch.to(device), batch.hints.to(device), batch.face.to(device)
        z = torch.randn(len(sketch), z_dim, device=device) if z_dim else None
        if ms_pairs:  # a second code for the first samples: the mode-seeking pairs
            z_b = torch.randn(ms_pairs, z_dim, device=device)
            sketch = torch.cat([sketch, sketch[:ms_pairs]])
            hints = torch.cat([hints, hints[:ms_pairs]])
            real = torch.cat([real, real[:ms_pairs]])
            z = torch.cat([z, z_b])
        cond = condition(sketch, hints)

        with autocast:
            fake = G(sketch, hints if with_hints else None, z)
        # Discriminator: real pairs -> real, generated pairs -> fake.
        with autocast:
            pred_real = D(torch.cat([cond, real], 1))
            pred_fake = D(torch.cat([cond, fake.detach()], 1))
        loss_d = d_loss(config.gan_loss, pred_real, pred_fake)
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        # Generator: fool the discriminator, match its features, stay close to the real face,
        # and make different codes give different faces.
        with autocast:
            pred = D(torch.cat([cond, fake], 1))
        loss_gan = g_gan_loss(config.gan_loss, pred)
        loss_l1 = l1(fake.float(), real)
        loss_g = loss_gan + config.lambda_l1 * loss_l1
        loss_fm = loss_ms = loss_hint = torch.zeros(())
        if config.lambda_fm > 0:  # the real features of the discriminator step (detached there)
            loss_fm = feature_matching(pred_real, pred)
            loss_g = loss_g + config.lambda_fm * loss_fm
        if config.lambda_hint > 0 and with_hints:
            mask = hints[:, 3:4]
            covered = mask.sum() * 3
            if covered > 0:
                loss_hint = ((fake.float() - real).abs() * mask).sum() / covered
                loss_g = loss_g + config.lambda_hint * loss_hint
        if ms_pairs:
            n = len(fake) - ms_pairs
            loss_ms = mode_seeking(fake[:ms_pairs], fake[n:], z[:ms_pairs], z[n:], config.ms_target)
            loss_g = loss_g + config.lambda_ms * loss_ms
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        if ema_g is not None:
            with torch.no_grad():
                for averaged, current in zip(ema_g.parameters(), bare_g.parameters()):
                    averaged.lerp_(current, 1 - config.ema)
                for averaged, current in zip(ema_g.buffers(), bare_g.buffers()):
                    averaged.copy_(current)

        step += 1
        window_images += config.batch_size * world
        bar.update(1)
        if is_main and step % config.log_every == 0:
            rate = window_images / (time.time() - window_start)
            window_start, window_images = time.time(), 0
            record = {"step": step, "elapsed_s": round(elapsed, 1), "lr": config.lr * scale,
                      "loss_d": loss_d.item(), "loss_gan": loss_gan.item(), "loss_l1": loss_l1.item(),
                      "loss_fm": loss_fm.item(), "loss_ms": loss_ms.item(), "loss_hint": loss_hint.item(), "images_per_s": round(rate, 2)}
            bar.set_postfix(l1=f"{record['loss_l1']:.3f}", d=f"{record['loss_d']:.3f}", ips=f"{rate:.1f}")
            with log_path.open("a") as f:
                f.write(json.dumps(record) + "\n")
        if is_main and step % config.sample_every == 0:
            shipped_g.eval()
            with torch.no_grad(), autocast:
                sample_fake = shipped_g(sample.sketch.to(device), sample.hints.to(device) if with_hints else None)
            G.train()
            shown = hints_over_sketch(sample.sketch, sample.hints) if with_hints else sample.sketch
            save_grid(out / "samples" / f"step_{step:07d}.png", shown, sample_fake, sample.face)
        if is_main and config.snapshot_every and step % config.snapshot_every == 0:
            (out / "snapshots").mkdir(exist_ok=True)
            save_atomically({"generator_args": generator_args, "generator": shipped_g.state_dict(), "step": step,
                             "elapsed_s": elapsed, "config": asdict(config), "commit": commit, "ema": config.ema},
                            out / "snapshots" / f"step_{step:07d}.pt")
        if time.time() - last_checkpoint > config.checkpoint_every_min * 60:
            save_checkpoint(elapsed_before + time.time() - start)
            last_checkpoint = time.time()

    bar.close()
    save_checkpoint(elapsed_before + time.time() - start)
    if is_main:
        print(f"done: {step} steps, {(elapsed_before + time.time() - start) / 60:.1f} min; checkpoint {checkpoint_path}")
    if distributed:
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
