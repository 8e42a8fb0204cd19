"""Face pipeline v3's refine network (issue 25): trains it, exports it (model contract 3).

    python -m training.refine exemplars        # bank faces warped onto the photos' meshes (the Rust CLI)
    python -m training.refine train --minutes 70
    python -m training.refine export --out models/refine-v3.onnx    # with the tone head (training/tone.py)

The task, made so that copying cannot solve it: the target is a photo P; the inputs are a sketch
of P (every sketch style of training/sketches.py, the 2017 recipe included, often roughened), the
warp of a *different* bank person Q onto P's mesh (chosen the way the app retrieves, sometimes a
poor match: `sketch2face exemplars`, the app's own retrieval and warp), and colour hints painted
from P (training/hints.py). The network learns to move Q's face toward what the sketch and the
hints say and to mend the warp's seams, keeping Q's photographic texture where the drawing says
nothing: it adds a correction to the exemplar (training/networks.py RefineNet), so untrained it
gives the warped stage back exactly.

The colours the drawing does not say must stay the exemplar's, or the network learns to paint the
average: so without hints the exemplar mostly gets the photo's palette first (Lab mean and
spread, skin and the rest apart: `recolour`), and with hints mostly not, so that the hints carry
the colour. A small patch discriminator keeps texture the L1 terms would average away.

Photos: CelebA whole heads aligned to the canvas framing (256 px, the app's framing) and UTK's
tight crops (192 px, scaled to 256: faces drawn to fill the page). Losses, none needing
downloaded weights: L1, L1 of the image gradients (edges where the photo has them: sharpness),
1 - SSIM, and the discriminator's hinge loss. Checkpoints go to ~/.cache/sketch2face/refine (every few minutes and at the end);
`train` resumes from the last one, so a run cut short loses minutes, not the run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from training import augment, hints as hint_sim, sketches, tone
from training.networks import build_discriminator, build_refine, count_parameters
from training.train import git_commit, save_atomically, to_tensor

SIDE = 256
CACHE = Path(os.environ.get("SKETCH2FACE_CACHE", Path.home() / ".cache" / "sketch2face")) / "refine"
# The photo sets: folder, side of its photos, the bank's source split the photos may share faces
# with (CelebA's train split is where the bank's faces come from), exemplars per photo.
SETS = {
    "celeba": ("training/data/celeba", 256, "train", 2),
    "utk": ("training/data/utkface192", 192, None, 1),
}
SET_WEIGHTS = {"celeba": 0.65, "utk": 0.35}
# Training exemplars made for a zoomed-out photo (a head drawn small: the warp stretches the bank
# photo's edges, a seam the network must mend), as `sketch2face exemplars --zoom-out`.
ZOOM_OUT_P = 0.3
DEFAULT_ARGS = {"resolution": SIDE, "widths": [16, 48, 96, 160, 192]}
CONTRACT = "3"


def exemplar_paths(name: str, split: str) -> tuple[Path, Path]:
    folder = Path(SETS[name][0])
    return folder / f"exemplars_{split}.npy", folder / f"exemplars_{split}.json"


def make_exemplars(args) -> int:
    """`sketch2face exemplars` for every set and split: the Rust retrieval and warp, the app's."""
    for name, (folder, side, same_split, per_photo) in SETS.items():
        for split in args.splits.split(","):
            out, choices = exemplar_paths(name, split)
            if out.exists() and choices.exists() and not args.force:
                print(f"{out}: there already")
                continue
            meshes = np.load(Path(folder) / f"{split}_landmarks.npy", mmap_mode="r")[:, :468].astype(np.float32)
            mesh_file = Path(folder) / f"exemplar_meshes_{split}.npy"
            np.save(mesh_file, np.ascontiguousarray(meshes))
            command = [args.binary, "exemplars", "--meshes", str(mesh_file), "--side", str(side),
                       "--per-photo", str(per_photo), "--seed", str(args.seed), "--out", str(out),
                       "--choices", str(choices)]
            if same_split and split == same_split:
                command += ["--same-source-split", same_split]
            if split == "train":
                command += ["--zoom-out", str(ZOOM_OUT_P)]
            print(" ".join(command), flush=True)
            subprocess.run(command, check=True)
            mesh_file.unlink()
    return 0


class PhotoSet:
    """One set's photos, meshes and exemplars for a split (memory-mapped)."""

    def __init__(self, name: str, split: str):
        folder, side, _, _ = SETS[name]
        self.name, self.side = name, side
        self.photos = np.load(Path(folder) / f"{split}.npy", mmap_mode="r")
        self.points = np.load(Path(folder) / f"{split}_landmarks.npy", mmap_mode="r")
        out, choices = exemplar_paths(name, split)
        if not out.exists():
            sys.exit(f"error: no exemplars at {out}: run `python -m training.refine exemplars` first")
        self.exemplars = np.load(out, mmap_mode="r")
        chosen = json.loads(choices.read_text())
        self.zooms = [[c.get("zoom", [1.0, 0.0, 0.0, 0.0]) for c in row] for row in chosen]
        self.usable = np.array([i for i, c in enumerate(chosen) if c[0]["face"] >= 0 and
                                np.isfinite(self.points[i]).all()])
        self.parts = json.loads((Path(folder) / "parts.json").read_text())

    def sample(self, index: int, slot: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Photo, its points and an exemplar, all at 256 px."""
        photo = np.asarray(self.photos[index])
        points = np.array(self.points[index], np.float32)
        slot %= self.exemplars.shape[1]
        exemplar = np.asarray(self.exemplars[index, slot])
        if self.side != SIDE:
            photo = cv2.resize(photo, (SIDE, SIDE), interpolation=cv2.INTER_CUBIC)
            points *= SIDE / self.side
        a, b, tx, ty = self.zooms[index][slot]
        if (a, b, tx, ty) != (1.0, 0.0, 0.0, 0.0):  # the exemplar was made for the photo zoomed out
            matrix = np.float32([[a, -b, tx], [b, a, ty]])
            photo = zoomed_out(photo, matrix)
            points = points @ matrix[:, :2].T + matrix[:, 2]
        return photo, points, exemplar


def zoomed_out(photo: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """The photo moved by `matrix` (a zoom out), the frame it leaves filled the way a camera with
    a shallow focus would show more of the scene: the edge colours, heavily blurred (a copy of
    the photo or a streak of its edge pixels would teach the network to paint those)."""
    photo = np.ascontiguousarray(photo)
    sharp = cv2.warpAffine(photo, matrix, (SIDE, SIDE), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
    inside = cv2.warpAffine(np.ones(photo.shape[:2], np.float32), matrix, (SIDE, SIDE), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    inside = cv2.GaussianBlur(cv2.erode(inside, np.ones((5, 5), np.uint8)), (0, 0), 2)[..., None]
    soft = cv2.GaussianBlur(sharp, (0, 0), SIDE / 12)
    return np.clip(sharp * inside + soft * (1 - inside), 0, 255).round().astype(np.uint8)


def geometric(photo: np.ndarray, exemplar: np.ndarray, points: np.ndarray, rng: np.random.Generator):
    """A mirror and a small zoom or shift of photo, exemplar and points alike: heads drawn a
    little larger, smaller or off centre."""
    if rng.random() < 0.5:
        photo, exemplar = photo[:, ::-1], exemplar[:, ::-1]
        points = points.copy()
        points[:, 0] = SIDE - points[:, 0]
    if rng.random() < 0.5:
        scale = rng.uniform(0.85, 1.12)
        shift = rng.normal(0, 8, 2)
        matrix = np.float32([[scale, 0, (1 - scale) * SIDE / 2 + shift[0]],
                             [0, scale, (1 - scale) * SIDE / 2 + shift[1]]])
        warp = lambda image: cv2.warpAffine(np.ascontiguousarray(image), matrix, (SIDE, SIDE),  # noqa: E731
                                           flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        photo, exemplar = warp(photo), warp(exemplar)
        points = points * scale + matrix[:, 2]
    return np.ascontiguousarray(photo), np.ascontiguousarray(exemplar), points


def face_mask(points: np.ndarray, parts: dict) -> np.ndarray:
    """float32 [S, S]: 1 inside the face oval, 0 outside, feathered over a few pixels."""
    mask = np.zeros((SIDE, SIDE), np.float32)
    oval = parts["face_oval"][0]
    cv2.fillPoly(mask, [np.round(points[oval]).astype(np.int32)], 1.0)
    return cv2.GaussianBlur(mask, (0, 0), 4)


def recolour(exemplar: np.ndarray, photo: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The exemplar with the photo's colours: in CIE Lab, each channel's mean and spread moved to
    the photo's, inside the face oval and outside it apart (skin; hair and background). Q's
    texture and P's palette: a sample where the colours need no changing."""
    source = cv2.cvtColor(exemplar, cv2.COLOR_RGB2LAB).astype(np.float32)
    target = cv2.cvtColor(photo, cv2.COLOR_RGB2LAB).astype(np.float32)
    out = np.zeros_like(source)
    for weight in (mask, 1 - mask):
        w = weight[..., None]
        total = w.sum() + 1e-6
        mean_s, mean_t = (source * w).sum((0, 1)) / total, (target * w).sum((0, 1)) / total
        sd_s = np.sqrt((((source - mean_s) ** 2) * w).sum((0, 1)) / total) + 1e-3
        sd_t = np.sqrt((((target - mean_t) ** 2) * w).sum((0, 1)) / total)
        out += w * ((source - mean_s) * np.clip(sd_t / sd_s, 0.5, 2.0) + mean_t)
    return cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)


# The exemplar gets the photo's colours this often: without hints nothing says the colours, so
# they should stay the exemplar's (a network that had to guess them would paint the mean); with
# hints, mostly not, so the hints must carry them.
RECOLOUR_P = {False: 0.8, True: 0.3}


def make_sample(photos: PhotoSet, index: int, rng: np.random.Generator, style: str | None = None,
                with_hints: bool | None = None, roughen: bool | None = None, slot: int | None = None,
                recoloured: bool | None = None):
    photo, points, exemplar = photos.sample(index, int(rng.integers(0, 16)) if slot is None else slot)
    photo, exemplar, points = geometric(photo, exemplar, points, rng)
    style = style or sketches.random_style(rng)
    sketch = sketches.make_sketch(photo, style, rng, (points, photos.parts))
    if roughen if roughen is not None else rng.random() < 0.5:
        sketch = augment.roughen(sketch, rng)
    frame = augment.Frame(0.0, 0.0, float(SIDE))
    hints = (hint_sim.simulate(photo, frame, rng) if (with_hints if with_hints is not None else True)
             else np.zeros((4, SIDE, SIDE), np.float32))
    if recoloured if recoloured is not None else rng.random() < RECOLOUR_P[bool(hints[3].any())]:
        exemplar = recolour(exemplar, photo, face_mask(points, photos.parts))
    return sketch, exemplar, hints, photo


class Batches(torch.utils.data.IterableDataset):
    """Endless training batches, each sample from a set drawn by SET_WEIGHTS."""

    def __init__(self, batch_size: int, seed: int):
        super().__init__()
        self.batch_size, self.seed = batch_size, seed

    def __iter__(self):
        torch.set_num_threads(1)
        cv2.setNumThreads(1)
        sets = {name: PhotoSet(name, "train") for name in SETS}
        names = list(sets)
        weights = np.array([SET_WEIGHTS[n] for n in names])
        rng = np.random.default_rng([self.seed, int(time.time())])
        while True:
            samples = []
            for _ in range(self.batch_size):
                photos = sets[names[rng.choice(len(names), p=weights / weights.sum())]]
                samples.append(make_sample(photos, int(rng.choice(photos.usable)), rng))
            yield tuple(stack(samples))


def stack(samples) -> list[torch.Tensor]:
    sketch, exemplar, hints, photo = zip(*samples)
    return [to_tensor(np.stack(sketch)), to_tensor(np.stack(exemplar)), torch.from_numpy(np.stack(hints)),
            to_tensor(np.stack(photo))]


def image_gradients(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return x[..., :, 1:] - x[..., :, :-1], x[..., 1:, :] - x[..., :-1, :]


def ssim(a: torch.Tensor, b: torch.Tensor, window: int = 7) -> torch.Tensor:
    """Mean SSIM over a box window, on images in [-1, 1] (scaled to [0, 1])."""
    a, b = (a + 1) / 2, (b + 1) / 2
    pool = lambda x: F.avg_pool2d(x, window, 1, window // 2, count_include_pad=False)  # noqa: E731
    mu_a, mu_b = pool(a), pool(b)
    var_a, var_b = pool(a * a) - mu_a**2, pool(b * b) - mu_b**2
    cov = pool(a * b) - mu_a * mu_b
    c1, c2 = 0.01**2, 0.03**2
    return (((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))).mean()


def losses(face: torch.Tensor, photo: torch.Tensor) -> dict[str, torch.Tensor]:
    (fx, fy), (px, py) = image_gradients(face), image_gradients(photo)
    return {
        "l1": (face - photo).abs().mean(),
        "gradient": (fx - px).abs().mean() + (fy - py).abs().mean(),
        "ssim": 1 - ssim(face, photo),
    }


LOSS_WEIGHTS = {"l1": 1.0, "gradient": 1.0, "ssim": 0.5, "gan": 0.05}
# A small PatchGAN on (sketch, face): texture the L1 terms alone would average away.
DISCRIMINATOR_ARGS = {"ndf": 16, "layers": 3, "in_channels": 1 + 3, "norm": "instance"}


def validation_batches(count: int, seed: int = 7) -> list[list[torch.Tensor]]:
    """Fixed validation samples (the same in every run): half CelebA, half UTK."""
    rng = np.random.default_rng(seed)
    out = []
    for name in SETS:
        photos = PhotoSet(name, "val")
        picks = rng.choice(photos.usable, count // 2, replace=False)
        # As the app has them: the bank's colours, not the photo's.
        out.append(stack([make_sample(photos, int(i), rng, slot=0, recoloured=False) for i in picks]))
    return out


def validate(net, batches) -> dict[str, float]:
    totals = {"l1": 0.0, "gradient": 0.0, "ssim": 0.0, "warped_l1": 0.0}
    with torch.no_grad():
        for sketch, exemplar, hints, photo in batches:
            face = net(sketch, exemplar, hints)
            for key, value in losses(face, photo).items():
                totals[key] += float(value) / len(batches)
            totals["warped_l1"] += float((exemplar - photo).abs().mean()) / len(batches)
    return {k: round(v, 4) for k, v in totals.items()}


def checkpoint_path() -> Path:
    return CACHE / "ckpt.pt"


def train(args) -> int:
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    CACHE.mkdir(parents=True, exist_ok=True)
    net = build_refine(DEFAULT_ARGS)
    ema = build_refine(DEFAULT_ARGS)
    optimizer = torch.optim.Adam(net.parameters(), lr=args.lr, betas=(0.9, 0.99))
    critic = build_discriminator(DISCRIMINATOR_ARGS)
    critic_optimizer = torch.optim.Adam(critic.parameters(), lr=args.lr, betas=(0.5, 0.99))
    step, elapsed = 0, 0.0
    history: list[dict] = []
    ckpt = checkpoint_path()
    if ckpt.exists() and not args.fresh:
        state = torch.load(ckpt, map_location="cpu", weights_only=False)
        net.load_state_dict(state["net"])
        ema.load_state_dict(state["ema"])
        optimizer.load_state_dict(state["optimizer"])
        step, elapsed, history = state["step"], state["elapsed_s"], state.get("history", [])
        if "critic" in state:
            critic.load_state_dict(state["critic"])
            critic_optimizer.load_state_dict(state["critic_optimizer"])
        print(f"resumed at step {step} ({elapsed / 60:.1f} min trained)", flush=True)
    else:
        ema.load_state_dict(net.state_dict())
    for p in ema.parameters():
        p.requires_grad_(False)
    print(f"refine network: {count_parameters(net):,} parameters", flush=True)
    val = validation_batches(args.val_samples)
    loader = torch.utils.data.DataLoader(Batches(args.batch, args.seed + step), batch_size=None,
                                         num_workers=args.workers, prefetch_factor=4 if args.workers else None,
                                         # forked after torch's threads ran (validation), a worker can hang
                                         multiprocessing_context="spawn" if args.workers else None)
    budget = args.minutes * 60
    started, last_save = time.time(), time.time()
    net.train()

    def save(tag: str) -> None:
        state = {"net": net.state_dict(), "ema": ema.state_dict(), "optimizer": optimizer.state_dict(),
                 "critic": critic.state_dict(), "critic_optimizer": critic_optimizer.state_dict(),
                 "step": step, "elapsed_s": elapsed + time.time() - started, "history": history,
                 "refine_args": DEFAULT_ARGS, "loss_weights": LOSS_WEIGHTS, "commit": git_commit(),
                 "batch": args.batch, "lr": args.lr, "precision": args.precision}
        save_atomically(state, ckpt)
        print(f"[{tag}] saved step {step}", flush=True)

    for sketch, exemplar, hints, photo in loader:
        # bf16 on the CPU: about a fifth faster here; the losses in float32.
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16"):
            face = net(sketch, exemplar, hints)
        face = face.float()
        parts = losses(face, photo)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16"):
            parts["gan"] = -critic(torch.cat([sketch, face], 1))[0][-1].float().mean()
        loss = sum(LOSS_WEIGHTS[k] * v for k, v in parts.items() if k in LOSS_WEIGHTS)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        # The critic, hinge loss: real photos against the faces just made.
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16"):
            real = critic(torch.cat([sketch, photo], 1))[0][-1].float()
            fake = critic(torch.cat([sketch, face.detach()], 1))[0][-1].float()
        critic_loss = F.relu(1 - real).mean() + F.relu(1 + fake).mean()
        critic_optimizer.zero_grad(set_to_none=True)
        critic_loss.backward()
        critic_optimizer.step()
        parts["critic"] = critic_loss.detach()
        step += 1
        with torch.no_grad():
            decay = min(args.ema, (1 + step) / (10 + step))
            for e, p in zip(ema.parameters(), net.parameters()):
                e.lerp_(p, 1 - decay)
        now = time.time()
        if step % args.log_every == 0:
            print(f"step {step} {(elapsed + now - started) / 60:.1f} min "
                  + " ".join(f"{k} {float(v.detach()):.4f}" for k, v in parts.items()), flush=True)
        if step % args.val_every == 0:
            scores = {"step": step, "minutes": round((elapsed + now - started) / 60, 1), **validate(ema, val)}
            history.append(scores)
            print("val", json.dumps(scores), flush=True)
        if now - last_save > args.save_minutes * 60:
            save("periodic")
            last_save = now
        if now - started > budget:
            break
    save("end")
    return 0


def load_checkpoint_net(path: Path):
    state = torch.load(path, map_location="cpu", weights_only=False)
    net = build_refine(state["refine_args"])
    net.load_state_dict(state["ema"])
    return net.eval(), state


def export(args) -> int:
    """The EMA weights as ONNX, contract 3: inputs sketch [N, 1, 256, 256] (+1 paper, -1 ink),
    exemplar [N, 3, 256, 256] and hints [N, 4, 256, 256], output face [N, 3, 256, 256]."""
    import onnx

    net, state = load_checkpoint_net(Path(args.checkpoint))
    dummy = (torch.ones(1, 1, SIDE, SIDE), torch.zeros(1, 3, SIDE, SIDE), torch.zeros(1, 4, SIDE, SIDE))
    out = Path(args.out)
    tmp = out.with_suffix(".tmp.onnx")
    torch.onnx.export(net, dummy, str(tmp), input_names=["sketch", "exemplar", "hints"], output_names=["face"],
                      dynamic_axes={name: {0: "N"} for name in ("sketch", "exemplar", "hints", "face")},
                      opset_version=17, dynamo=False)
    model = onnx.load(str(tmp))
    last = state["history"][-1] if state.get("history") else {}
    metadata = {
        "sketch2face.contract": CONTRACT,
        "sketch2face.resolution": str(SIDE),
        "sketch2face.name": args.name,
        "sketch2face.stage": "refine",
        "sketch2face.trained": f"{state['step']} steps, {state['elapsed_s'] / 60:.0f} min on the CPU, commit {state.get('commit')}",
        "sketch2face.validation": json.dumps(last),
        "sketch2face.terms": "trained on CelebA and UTKFace photographs: non-commercial research use only",
    }
    del model.metadata_props[:]
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    onnx.save(model, str(tmp))
    tmp.replace(out)
    print(f"exported step {state['step']} -> {out} ({out.stat().st_size / 1e6:.1f} MB)")
    if args.tone and Path(args.tone).exists():  # the shipped model has the tone head (training/tone.py)
        tone.attach(argparse.Namespace(refine=str(out), out=str(out), checkpoint=args.tone, strength=args.tone_strength))
    return 0


def recover(args) -> int:
    """The refine network's weights read back from an exported model, for when the cache is gone:
    a checkpoint `export` takes (the EMA weights and what the metadata says of the training),
    not one `train` resumes from (no optimizer, no discriminator)."""
    import re

    import onnx
    from onnx import numpy_helper

    model = onnx.load(args.model)
    weights = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in model.graph.initializer}
    net = build_refine(DEFAULT_ARGS)
    wanted = net.state_dict()
    if "stem.0.weight" not in weights:  # exported with the stem at full resolution: fold it back
        first = next((n for n in model.graph.node if n.op_type == "Conv"), None)
        if first is None or len(first.input) < 3 or first.input[1] not in weights:
            raise SystemExit(f"error: {args.model} has no refine stem (no stem.0.weight, no first Conv's weight)")
        full = weights[first.input[1]]
        out, channels = full.shape[:2]
        weights["stem.0.weight"] = full.view(out, channels, 3, 2, 3, 2).permute(0, 1, 3, 5, 2, 4).reshape(
            out, channels * 4, 3, 3)
        weights["stem.0.bias"] = weights[first.input[2]]
    missing = [k for k in wanted if k not in weights or weights[k].shape != wanted[k].shape]
    if missing:
        raise SystemExit(f"error: {args.model} is not this refine network: {', '.join(missing[:4])} missing or reshaped")
    net.load_state_dict({k: weights[k] for k in wanted})
    meta = {p.key: p.value for p in model.metadata_props}
    trained = meta.get("sketch2face.trained", "")
    number = lambda pattern: int(m.group(1)) if (m := re.search(pattern, trained)) else 0  # noqa: E731
    commit = re.search(r"commit (\w+)", trained)
    validation = json.loads(meta.get("sketch2face.validation") or "{}")
    state = {"ema": net.state_dict(), "refine_args": DEFAULT_ARGS, "step": number(r"(\d+) steps"),
             "elapsed_s": number(r"(\d+) min") * 60, "history": [validation] if validation else [],
             "commit": commit.group(1) if commit else None, "recovered_from": str(args.model)}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    save_atomically(state, Path(args.out))
    print(f"{args.out}: the refine network of {args.model} ({trained or 'no training metadata'})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    ex = commands.add_parser("exemplars", help="bank faces warped onto every photo's mesh (the Rust CLI)")
    ex.add_argument("--binary", default="target/release/sketch2face")
    ex.add_argument("--splits", default="train,val,test")
    ex.add_argument("--seed", type=int, default=25)
    ex.add_argument("--force", action="store_true")
    tr = commands.add_parser("train", help="train (resumes from ~/.cache/sketch2face/refine/ckpt.pt)")
    tr.add_argument("--minutes", type=float, default=70)
    tr.add_argument("--batch", type=int, default=8)
    tr.add_argument("--lr", type=float, default=4e-4)
    tr.add_argument("--ema", type=float, default=0.999)
    tr.add_argument("--threads", type=int, default=2)
    tr.add_argument("--precision", choices=("bf16", "fp32"), default="bf16")
    tr.add_argument("--workers", type=int, default=1)
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--val_samples", type=int, default=32)
    tr.add_argument("--val_every", type=int, default=250)
    tr.add_argument("--log_every", type=int, default=50)
    tr.add_argument("--save_minutes", type=float, default=5)
    tr.add_argument("--fresh", action="store_true", help="start over instead of resuming")
    exp = commands.add_parser("export", help="the trained network as ONNX, model contract 3")
    exp.add_argument("--checkpoint", default=str(checkpoint_path()))
    exp.add_argument("--out", default="models/refine-v3.onnx")
    exp.add_argument("--name", default="refine-v3")
    exp.add_argument("--tone", default=str(CACHE.parent / "tone" / "ckpt.pt"),
                     help="the tone head's checkpoint to attach (training/tone.py); none: skipped")
    exp.add_argument("--tone_strength", type=float, default=tone.DEFAULT_STRENGTH)
    rc = commands.add_parser("recover", help="a checkpoint `export` takes, from an exported model")
    rc.add_argument("--model", default="models/refine-v3.onnx")
    rc.add_argument("--out", default=str(CACHE / "recovered.pt"))
    args = parser.parse_args(argv)
    return {"exemplars": make_exemplars, "train": train, "export": export, "recover": recover}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
