"""The refine model's tone head (issue 25): the colour layout a drawing and its hints say, so that a
bank person's face takes the light and colours the drawing implies while keeping its texture.

    python -m training.tone data --samples 32000     # sketches, hints and layouts -> the cache
    python -m training.tone train --minutes 12
    python -m training.tone attach --refine models/refine-v3.onnx   # adds the `toned` output

Why: a bank face is a real person's, lit and coloured as that photo was, and a drawing says
nothing of that person's colours; the refined face then differs from the photo the drawing was
made from in its broad colours (measured on 150 held-out UTK photos: recolouring the refined face
to the photo's own palette takes L1 from 0.183 to 0.140, recolouring it to the mean palette does
nothing). What a drawing does say, a network trained on real photos can learn: the light and
colours of its regions at a coarse scale, the mean of what such drawings show (and with hints,
the hinted colours, spread over the region they were painted on).

The tone network sees the sketch and the hints at 64 px (the refine model's 256 px inputs
averaged over 4x4 blocks, inside the exported graph) and gives the face's colours at 16x16 (the
photo's 16x16 block means: the layout, not the detail), trained with L1 (the median colour of
what the drawing could be). The exported refine model then has a second output,

    toned = face + bilinear(s * (layout - blocks16(face)))   (clamped to [-1, 1])

the refined face with its coarse colours moved s of the way to the layout: its texture, and at
s < 1 some of the person's own colouring, stay. s is `strength`, and 1 in a 16x16 block a
quarter painted or more (s = strength + (1 - strength) * min(1, 4 * the share painted)). The
colours painted are then the engine's to match, region by region (src/face/painted.rs). The app
shows `toned` for bank faces and `face` for a look photo (whose colours are the user's choice).
Strength trades the photo's fidelity against how different the variations look; it is in the
model's metadata.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from training import augment, hints as hint_sim, sketches
from training.networks import _conv, count_parameters
from training.train import git_commit, save_atomically

SIDE = 256  # the refine model's side: the inputs the tone head gets
INPUT_SIDE = 64  # the tone network's input: SIDE averaged over 4x4 blocks
LAYOUT_SIDE = 16  # its output: the face's 16x16 block means
CACHE = Path(os.environ.get("SKETCH2FACE_CACHE", Path.home() / ".cache" / "sketch2face")) / "tone"
SETS = {"celeba": ("training/data/celeba", 0.65), "utk": ("training/data/utkface192", 0.35)}
DEFAULT_STRENGTH = 0.5
HINT_GAIN = 4.0  # the share of a 16x16 block painted, times this, is how far past `strength` it goes
WIDTHS = (32, 64, 96, 128)


class ToneNet(nn.Module):
    """Sketch and hints at 64 px -> the colour layout at 16x16, in [-1, 1]. A small encoder down to
    4x4 (each 3x3 there sees the whole face) and a decoder back to 16x16 with skips."""

    def __init__(self, widths: tuple[int, ...] = WIDTHS):
        super().__init__()
        a, b, c, d = widths
        self.enc = nn.ModuleList([_conv(5, a, stride=2), _conv(a, b, stride=2), _conv(b, c, stride=2),
                                  _conv(c, d, stride=2)])  # 32, 16, 8, 4
        self.middle = _conv(d, d)
        self.up8 = _conv(d + c, c)
        self.up16 = _conv(c + b, b)
        self.head = nn.Conv2d(b, 3, 3, 1, 1)

    def forward(self, sketch64: torch.Tensor, hints64: torch.Tensor) -> torch.Tensor:
        x = torch.cat([sketch64, hints64], 1)
        skips = []
        for layer in self.enc:
            x = layer(x)
            skips.append(x)
        y = self.middle(x)
        y = self.up8(torch.cat([F.interpolate(y, scale_factor=2.0, mode="nearest"), skips[2]], 1))
        y = self.up16(torch.cat([F.interpolate(y, scale_factor=2.0, mode="nearest"), skips[1]], 1))
        return torch.tanh(self.head(y))


def blocks(x: torch.Tensor, side: int) -> torch.Tensor:
    """[N, C, S, S] averaged over blocks down to [N, C, side, side] (S a multiple of side)."""
    return F.avg_pool2d(x, x.shape[-1] // side)


class TonedRefine(nn.Module):
    """The tone head as the exported graph has it: the refine model's inputs and its `face` in,
    `toned` out. Where the user painted hints the layout wins outright (what they painted is
    what they mean); elsewhere it moves the face `strength` of the way."""

    def __init__(self, net: ToneNet, strength: float):
        super().__init__()
        self.net, self.strength = net, float(strength)

    def forward(self, sketch: torch.Tensor, hints: torch.Tensor, face: torch.Tensor) -> torch.Tensor:
        layout = self.net(blocks(sketch, INPUT_SIDE), blocks(hints, INPUT_SIDE))
        return self.painted(hints, face, layout)

    def painted(self, hints: torch.Tensor, face: torch.Tensor, layout: torch.Tensor) -> torch.Tensor:
        """`toned` from the layout, for any hints. The colour painted in each region is the
        engine's to match (src/face/painted.rs: a region's mean, most of its detail kept), which needs
        the regions, not windows a graph can pool."""
        # A block a quarter painted or more follows its layout fully.
        painted = torch.clamp(HINT_GAIN * blocks(hints[:, 3:4], LAYOUT_SIDE), 0.0, 1.0)
        strength = self.strength + (1.0 - self.strength) * painted
        return torch.clamp(face + upsampled(strength * (layout - blocks(face, LAYOUT_SIDE))), -1.0, 1.0)

    def unpainted(self, face: torch.Tensor, layout: torch.Tensor) -> torch.Tensor:
        """`toned` where nothing is painted: `painted` with zero hints, without their work."""
        return torch.clamp(face + self.strength * upsampled(layout - blocks(face, LAYOUT_SIDE)), -1.0, 1.0)


def upsampled(layout: torch.Tensor) -> torch.Tensor:
    """A 16x16 layout bilinear at the refine model's side."""
    return F.interpolate(layout, scale_factor=float(SIDE // LAYOUT_SIDE), mode="bilinear", align_corners=False)


# ---- data ----------------------------------------------------------------------------------------

class Photos:
    """One set's training photos and meshes at SIDE px (memory-mapped)."""

    def __init__(self, folder: str, split: str):
        self.photos = np.load(Path(folder) / f"{split}.npy", mmap_mode="r")
        self.points = np.load(Path(folder) / f"{split}_landmarks.npy", mmap_mode="r")
        self.parts = json.loads((Path(folder) / "parts.json").read_text())
        self.usable = np.flatnonzero(np.isfinite(np.asarray(self.points)).all((1, 2)))

    def sample(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        photo = np.asarray(self.photos[index])
        points = np.array(self.points[index], np.float32)
        if photo.shape[0] != SIDE:
            points *= SIDE / photo.shape[0]
            photo = cv2.resize(photo, (SIDE, SIDE), interpolation=cv2.INTER_CUBIC)
        return photo, points


def mirrored_or_moved(photo: np.ndarray, points: np.ndarray, rng: np.random.Generator):
    """A mirror and a small zoom or shift (heads drawn a little larger, smaller or off centre)."""
    if rng.random() < 0.5:
        photo = photo[:, ::-1]
        points = points.copy()
        points[:, 0] = SIDE - points[:, 0]
    if rng.random() < 0.5:
        scale, shift = rng.uniform(0.85, 1.12), rng.normal(0, 8, 2)
        matrix = np.float32([[scale, 0, (1 - scale) * SIDE / 2 + shift[0]],
                             [0, scale, (1 - scale) * SIDE / 2 + shift[1]]])
        photo = cv2.warpAffine(np.ascontiguousarray(photo), matrix, (SIDE, SIDE), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REFLECT)
        points = points * scale + matrix[:, 2]
    return np.ascontiguousarray(photo), points


def block_mean(image: np.ndarray, side: int) -> np.ndarray:
    """float [C, S, S] averaged over blocks down to [C, side, side]."""
    c, s, _ = image.shape
    k = s // side
    return image.reshape(c, side, k, side, k).mean((2, 4))


def make_sample(photos: Photos, index: int, rng: np.random.Generator, style: str | None = None,
                with_hints: bool | None = None):
    """(sketch [1, 64, 64], hints [4, 64, 64], layout [3, 16, 16]), float32, as the graph has them."""
    photo, points = mirrored_or_moved(*photos.sample(index), rng)
    sketch = sketches.make_sketch(photo, style or sketches.random_style(rng), rng, (points, photos.parts))
    if rng.random() < 0.5:
        sketch = augment.roughen(sketch, rng)
    hints = (hint_sim.simulate(photo, augment.Frame(0.0, 0.0, float(SIDE)), rng)
             if (with_hints if with_hints is not None else True) else np.zeros((4, SIDE, SIDE), np.float32))
    sketch = sketch.astype(np.float32)[None] / 127.5 - 1
    layout = photo.astype(np.float32).transpose(2, 0, 1) / 127.5 - 1
    return block_mean(sketch, INPUT_SIDE), block_mean(hints, INPUT_SIDE), block_mean(layout, LAYOUT_SIDE)


def make_data(args) -> int:
    """`samples` training and `samples // 16` validation samples, each set by its weight, into the
    cache (float16); one worker process per `--part` so two can run side by side."""
    CACHE.mkdir(parents=True, exist_ok=True)
    for split, count in (("val", max(256, args.samples // 16)), ("train", args.samples)):
        out = CACHE / f"{split}_{args.part}.npz"
        if out.exists() and not args.force:
            print(f"{out}: there already")
            continue
        sets = {name: Photos(folder, split) for name, (folder, _) in SETS.items()}
        weights = np.array([w for _, w in SETS.values()])
        rng = np.random.default_rng([args.seed, args.part, split == "train"])
        columns: list[list[np.ndarray]] = [[], [], []]
        started = time.time()
        for i in range(count):
            photos = sets[list(sets)[rng.choice(len(sets), p=weights / weights.sum())]]
            for column, value in zip(columns, make_sample(photos, int(rng.choice(photos.usable)), rng)):
                column.append(value.astype(np.float16))
            if (i + 1) % 2000 == 0:
                print(f"{split} {i + 1}/{count} ({time.time() - started:.0f} s)", flush=True)
        tmp = out.with_suffix(".tmp.npz")
        np.savez(tmp, sketch=np.stack(columns[0]), hints=np.stack(columns[1]), layout=np.stack(columns[2]))
        tmp.replace(out)
    return 0


def load_split(split: str) -> list[torch.Tensor]:
    parts = sorted(CACHE.glob(f"{split}_*.npz"))
    if not parts:
        sys.exit(f"error: no {split} samples in {CACHE}: run `python -m training.tone data` first")
    loaded = [np.load(p) for p in parts]
    return [torch.from_numpy(np.concatenate([d[k] for d in loaded]).astype(np.float32))
            for k in ("sketch", "hints", "layout")]


# ---- training ------------------------------------------------------------------------------------

def checkpoint_path() -> Path:
    return CACHE / "ckpt.pt"


def evaluate(net: ToneNet, data: list[torch.Tensor], batch: int = 256) -> float:
    net.eval()
    total = 0.0
    with torch.no_grad():
        for i in range(0, len(data[0]), batch):
            sketch, hints, layout = (t[i:i + batch] for t in data)
            total += float((net(sketch, hints) - layout).abs().sum())
    net.train()
    return total / data[2].numel()


def train(args) -> int:
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train_data, val_data = load_split("train"), load_split("val")
    net = ToneNet()
    optimizer = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    step, elapsed, history = 0, 0.0, []
    ckpt = checkpoint_path()
    if ckpt.exists() and not args.fresh:
        state = torch.load(ckpt, map_location="cpu", weights_only=False)
        net.load_state_dict(state["net"])
        optimizer.load_state_dict(state["optimizer"])
        step, elapsed, history = state["step"], state["elapsed_s"], state["history"]
        print(f"resumed at step {step} ({elapsed / 60:.1f} min trained)", flush=True)
    print(f"tone network: {count_parameters(net):,} parameters; {len(train_data[0]):,} training samples", flush=True)
    # The floor the layout must beat: every face the mean layout.
    mean_layout = train_data[2].mean(0, keepdim=True)
    print(f"mean layout's val L1: {float((val_data[2] - mean_layout).abs().mean()):.4f}", flush=True)
    rng = torch.Generator().manual_seed(args.seed + step)
    started = last_save = time.time()

    def save(tag: str) -> None:
        save_atomically({"net": net.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
                         "elapsed_s": elapsed + time.time() - started, "history": history,
                         "widths": WIDTHS, "commit": git_commit()}, ckpt)
        print(f"[{tag}] saved step {step}", flush=True)

    while time.time() - started < args.minutes * 60:
        picks = torch.randint(0, len(train_data[0]), (args.batch,), generator=rng)
        sketch, hints, layout = (t[picks] for t in train_data)
        if torch.rand(1, generator=rng).item() < 0.5:  # mirrored: the layout follows
            sketch, hints, layout = sketch.flip(-1), hints.flip(-1), layout.flip(-1)
        loss = (net(sketch, hints) - layout).abs().mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step += 1
        if step % args.val_every == 0:
            score = {"step": step, "minutes": round((elapsed + time.time() - started) / 60, 1),
                     "train_l1": round(float(loss.detach()), 4), "val_l1": round(evaluate(net, val_data), 4)}
            history.append(score)
            print("val", json.dumps(score), flush=True)
        if time.time() - last_save > args.save_minutes * 60:
            save("periodic")
            last_save = time.time()
    save("end")
    return 0


# ---- export: the tone head inside the refine model ------------------------------------------------

def attach(args) -> int:
    """Adds the `toned` output to a refine model (contract 3): the tone head's graph joined to the
    refine graph at its inputs `sketch`, `hints` and its output `face` (see `head_graph`)."""
    import onnx

    state = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
    net = ToneNet(tuple(state["widths"]))
    net.load_state_dict(state["net"])
    head = TonedRefine(net.eval(), args.strength)
    refine = onnx.load(args.refine)
    drop_tone_head(refine)  # attaching again (another strength, a newer head) replaces it
    opset = next(o.version for o in refine.opset_import if o.domain in ("", "ai.onnx"))
    nodes, initializers = head_graph(head, opset)
    refine.graph.node.extend(nodes)
    refine.graph.initializer.extend(initializers)
    face = next(o for o in refine.graph.output if o.name == "face")
    toned = refine.graph.output.add()
    toned.CopyFrom(face)
    toned.name = "toned"
    history = state["history"][-1] if state["history"] else {}
    for key, value in {"sketch2face.tone_strength": f"{args.strength:g}",
                       "sketch2face.tone": f"{state['step']} steps, {state['elapsed_s'] / 60:.0f} min on the CPU, "
                                           f"val L1 {history.get('val_l1')}, commit {state.get('commit')}"}.items():
        entry = next((p for p in refine.metadata_props if p.key == key), None) or refine.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(refine)
    out = Path(args.out)
    tmp = out.with_suffix(".tmp.onnx")
    onnx.save(refine, str(tmp))
    check_parity(tmp, head)
    tmp.replace(out)
    print(f"{out}: `toned` added (strength {args.strength:g}, {out.stat().st_size / 1e6:.1f} MB)")
    return 0


class _Piece(nn.Module):
    """One step of the head, exported on its own (`head_graph` joins them)."""

    def __init__(self, step, net: ToneNet | None = None):
        super().__init__()
        self.step, self.net = step, net  # net: so its weights keep their names (tone/net.*)

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.step(*inputs)


def head_graph(head: TonedRefine, opset: int) -> tuple[list, list]:
    """The tone head as ONNX nodes and weights, every name of its own under `tone/`.

    Nearly every face the app makes while a user draws has no hints, and what hints cost (the
    hints pooled for the tone network, the painted share) need not be paid then, so the graph asks first whether any hint pixel is set and runs that work only then: two `If`
    nodes, one for the hints the tone network sees (zeros, then, need no pooling) and one for
    `toned`. Both ways give what `TonedRefine` gives."""
    import onnx
    from onnx import helper

    n, side, small, grid = 1, SIDE, INPUT_SIDE, LAYOUT_SIDE
    image = lambda c, s=side: torch.zeros(n, c, s, s)  # noqa: E731
    net = head.net

    def piece(step, inputs: dict[str, torch.Tensor], output: str, prefix: str, bind: dict[str, str]):
        """`step` exported with `inputs` (name: example), its names prefixed, its inputs and its
        output bound to the joined graph's names."""
        module = _Piece(step, net if step is layout_step else None)
        names, exported = list(inputs), io.BytesIO()
        torch.onnx.export(module, tuple(inputs.values()), exported, input_names=names, output_names=[output],
                          dynamic_axes={k: {0: "N"} for k in [*names, output]}, opset_version=opset, dynamo=False)
        graph = onnx.load_from_string(exported.getvalue()).graph
        rename = lambda name: bind.get(name, name if not name else f"{prefix}{name}")  # noqa: E731
        for node in graph.node:
            node.name = f"{prefix}{node.name}"
            node.input[:] = [rename(x) for x in node.input]
            node.output[:] = [rename(x) for x in node.output]
        for init in graph.initializer:
            init.name = rename(init.name)
        for out in graph.output:
            out.name = rename(out.name)
        del graph.input[:]
        graph.name = prefix.strip("/")
        return graph

    def layout_step(sketch, hints64):
        return net(blocks(sketch, small), hints64)

    hints64_if = piece(lambda hints: blocks(hints, small), {"hints": image(4)}, "hints64",
                       "tone/hints64/painted/", {"hints": "hints", "hints64": "tone/hints64/painted"})
    hints64_else = piece(lambda sketch: torch.zeros(sketch.shape[0], 4, small, small), {"sketch": image(1)}, "hints64",
                         "tone/hints64/blank/", {"sketch": "sketch", "hints64": "tone/hints64/blank"})
    layout = piece(layout_step, {"sketch": image(1), "hints64": image(4, small)}, "layout", "tone/",
                   {"sketch": "sketch", "hints64": "tone/hints64", "layout": "tone/layout"})
    toned_if = piece(head.painted, {"hints": image(4), "face": image(3), "layout": image(3, grid)}, "toned",
                     "tone/toned/painted/", {"hints": "hints", "face": "face", "layout": "tone/layout",
                                             "toned": "tone/toned/painted"})
    toned_else = piece(head.unpainted, {"face": image(3), "layout": image(3, grid)}, "toned",
                       "tone/toned/blank/", {"face": "face", "layout": "tone/layout", "toned": "tone/toned/blank"})
    # Any hint value set (the mask, or a colour without it: then the general way, still right).
    any_hint = [
        helper.make_node("Abs", ["hints"], ["tone/any/abs"], name="tone/any/Abs"),
        helper.make_node("ReduceMax", ["tone/any/abs"], ["tone/any/max"], name="tone/any/ReduceMax", keepdims=0),
        helper.make_node("Greater", ["tone/any/max", "tone/any/zero"], ["tone/any"], name="tone/any/Greater"),
    ]
    zero = onnx.numpy_helper.from_array(np.zeros((), np.float32), "tone/any/zero")
    nodes = [*any_hint,
             helper.make_node("If", ["tone/any"], ["tone/hints64"], name="tone/hints64/If",
                              then_branch=hints64_if, else_branch=hints64_else),
             *layout.node,
             helper.make_node("If", ["tone/any"], ["toned"], name="tone/toned/If",
                              then_branch=toned_if, else_branch=toned_else)]
    return nodes, [zero, *layout.initializer]


def recover(args) -> int:
    """The tone network's checkpoint read back from a refine model's attached head (its weights
    and what the model's metadata says of its training), for when the cache is gone: enough to
    attach it again (another strength, a newer refine model), not to resume training."""
    import re

    import onnx
    from onnx import numpy_helper

    model = onnx.load(args.refine)
    weights = {i.name[len("tone/"):]: torch.from_numpy(numpy_helper.to_array(i).copy())
               for i in model.graph.initializer if i.name.startswith("tone/net.")}
    if not weights:
        raise SystemExit(f"error: {args.refine} has no tone head (no tone/net.* weights)")
    widths = tuple(int(weights[f"net.enc.{k}.0.weight"].shape[0]) for k in range(4))
    net = ToneNet(widths)
    net.load_state_dict({key[len("net."):]: value for key, value in weights.items()})
    meta = {p.key: p.value for p in model.metadata_props}
    said = meta.get("sketch2face.tone", "")
    number = lambda pattern: float(m.group(1)) if (m := re.search(pattern, said)) else 0.0  # noqa: E731
    commit = re.search(r"commit (\w+)", said)
    val_l1 = re.search(r"val L1 ([0-9.]+)", said)
    state = {"net": net.state_dict(), "step": int(number(r"(\d+) steps")), "elapsed_s": number(r"(\d+) min") * 60,
             "history": [{"val_l1": float(val_l1.group(1))}] if val_l1 else [], "widths": widths,
             "commit": commit.group(1) if commit else None, "recovered_from": str(args.refine)}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    save_atomically(state, Path(args.out))
    print(f"{args.out}: the tone network of {args.refine} ({said or 'no training metadata'})")
    return 0


def drop_tone_head(model) -> None:
    """Takes an attached tone head (its nodes, weights and `toned`) out of a refine model."""
    ours = lambda name: name == "toned" or name.startswith("tone/")  # noqa: E731
    kept = [n for n in model.graph.node if not any(ours(o) for o in n.output)]
    del model.graph.node[:]
    model.graph.node.extend(kept)
    kept_init = [i for i in model.graph.initializer if not ours(i.name)]
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept_init)
    kept_out = [o for o in model.graph.output if not ours(o.name)]
    del model.graph.output[:]
    model.graph.output.extend(kept_out)


def check_parity(model: Path, head: TonedRefine) -> None:
    """The joined graph's `toned` against the head in PyTorch on its own `face`: the same."""
    import onnxruntime as ort

    rng = np.random.default_rng(0)
    sketch = np.where(rng.random((2, 1, SIDE, SIDE)) < 0.1, -1.0, 1.0).astype(np.float32)
    exemplar = rng.uniform(-1, 1, (2, 3, SIDE, SIDE)).astype(np.float32)
    hints = np.zeros((2, 4, SIDE, SIDE), np.float32)
    hints[:, :3, 100:140, 100:140], hints[:, 3, 100:140, 100:140] = 0.3, 1.0
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    gaps = []
    for case in (hints, np.zeros_like(hints)):  # the graph's two ways: painted and blank
        face, toned = session.run(["face", "toned"], {"sketch": sketch, "exemplar": exemplar, "hints": case})
        with torch.no_grad():
            expected = head(torch.from_numpy(sketch), torch.from_numpy(case), torch.from_numpy(face)).numpy()
        gaps.append(float(np.abs(expected - toned).max()))
    if max(gaps) > 1e-4:
        raise SystemExit(f"error: the joined graph's `toned` differs from PyTorch's by {max(gaps)} (painted, blank: {gaps})")
    print(f"parity: `toned` within {max(gaps):.1e} of PyTorch, with hints and without")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    data = commands.add_parser("data", help="training samples (sketch, hints, layout) -> the cache")
    data.add_argument("--samples", type=int, default=32000)
    data.add_argument("--part", type=int, default=0, help="which worker's share (run parts side by side)")
    data.add_argument("--seed", type=int, default=0)
    data.add_argument("--force", action="store_true")
    tr = commands.add_parser("train", help="train (resumes from ~/.cache/sketch2face/tone/ckpt.pt)")
    tr.add_argument("--minutes", type=float, default=12)
    tr.add_argument("--batch", type=int, default=64)
    tr.add_argument("--lr", type=float, default=1e-3)
    tr.add_argument("--threads", type=int, default=2)
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--val_every", type=int, default=200)
    tr.add_argument("--save_minutes", type=float, default=3)
    tr.add_argument("--fresh", action="store_true")
    at = commands.add_parser("attach", help="add the `toned` output to a refine model")
    at.add_argument("--refine", default="models/refine-v3.onnx")
    at.add_argument("--out", default="models/refine-v3.onnx")
    at.add_argument("--checkpoint", default=str(checkpoint_path()))
    at.add_argument("--strength", type=float, default=DEFAULT_STRENGTH)
    rc = commands.add_parser("recover", help="the tone network's checkpoint from a refine model's head")
    rc.add_argument("--refine", default="models/refine-v3.onnx")
    rc.add_argument("--out", default=str(CACHE / "ckpt_recovered.pt"))
    args = parser.parse_args(argv)
    return {"data": make_data, "train": train, "attach": attach, "recover": recover}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
