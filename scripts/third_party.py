#!/usr/bin/env python3
"""Write THIRD-PARTY for the bundle (`make dist`): the terms of everything in it that the sketch2face
authors did not write.

1. The model's training data. The terms come from the model itself (its `sketch2face.license` and
   `sketch2face.data` metadata, as `sketch2face info` prints them) and from its card: every paragraph of
   models/README.md that speaks of terms or licences. A retrained model (another dataset, other terms)
   brings its own terms along; a model without recorded terms is refused.
2. ONNX Runtime: its LICENSE and ThirdPartyNotices.txt, from the PyPI wheel the runtime came from
   (scripts/fetch-onnxruntime.sh keeps them in third_party/onnxruntime/licenses/).
3. The Rust crates compiled into the program (`cargo metadata`, normal dependencies for Linux x86_64):
   name, version, licence, and the licence files each crate ships, identical texts printed once.

Standard library only (python3 runs it, not the training venv).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

RULE = "=" * 100
LEGAL_FILE = re.compile(r"^(LICEN[CS]E|COPYING|NOTICE|UNLICENSE|COPYRIGHT)([-._].*)?$", re.IGNORECASE)
# Folders whose text files are all licences: embedded fonts carry theirs beside them (epaint_default_fonts).
LEGAL_DIRS = {"fonts", "licenses", "LICENSES"}
TERMS_WORDS = re.compile(r"\b(terms|licen[cs]ed?|non-commercial)\b", re.IGNORECASE)


def fail(message: str) -> None:
    sys.exit(f"error: {message}")


def metadata_value(info: str, key: str) -> str | None:
    """The value of `key` in `sketch2face info`'s output (`  key: value` under `metadata:`)."""
    prefix = f"  {key}: "
    for line in info.splitlines():
        if line.startswith(prefix):
            return line[len(prefix):].strip()
    return None


def card_terms(card: str) -> list[str]:
    """The card's prose paragraphs that speak of terms or licences (no headings, tables or code)."""
    prose = re.sub(r"^```.*?^```", "", card, flags=re.DOTALL | re.MULTILINE)
    return [" ".join(line.strip() for line in block.splitlines())
            for block in re.split(r"\n\s*\n", prose)
            if not block.lstrip().startswith(("#", "|", "![")) and TERMS_WORDS.search(block)]


def wrap(text: str, indent: str = "") -> str:
    return textwrap.fill(text, width=100, initial_indent=indent, subsequent_indent=indent,
                         break_long_words=False, break_on_hyphens=False)


def model_section(info: str, card_path: Path) -> str:
    license_text = metadata_value(info, "sketch2face.license")
    if not license_text:
        fail("the model records no training-data terms (metadata sketch2face.license); "
             "export it with training/export.py, which writes them")
    data = metadata_value(info, "sketch2face.data") or "(not recorded)"
    paragraphs = card_terms(card_path.read_text(encoding="utf-8"))
    if not paragraphs:
        fail(f"{card_path} has no paragraph about the training data's terms; the model card must state them")
    parts = [
        RULE,
        "1. THE MODEL'S TRAINING DATA (models/sketch2face.onnx)",
        RULE,
        "",
        wrap("The faces the model paints come from what it was trained on, and the terms of that data "
             "apply to the model and to what it makes. Read them before you use either."),
        "",
        "The terms recorded in the model (metadata sketch2face.license):",
        "",
        wrap(license_text, "    "),
        "",
        "The training data (metadata sketch2face.data):",
        "",
        wrap(data, "    "),
        "",
        "From the model card (models/README.md in this bundle), every paragraph on terms; the card may",
        "also describe an earlier model it compares with, whose data had terms of its own:",
        "",
    ]
    for paragraph in paragraphs:
        parts += [wrap(paragraph.replace("**", ""), "    "), ""]
    return "\n".join(parts)


def runtime_section(licenses: Path, version: str) -> str:
    license_file = licenses / "LICENSE"
    notices = licenses / "ThirdPartyNotices.txt"
    for f in (license_file, notices):
        if not f.is_file():
            fail(f"{f} is missing; run scripts/fetch-onnxruntime.sh cpu (it keeps the wheel's licence files)")
    return "\n".join([
        RULE,
        f"2. ONNX RUNTIME {version} (libonnxruntime.so), from the PyPI wheel onnxruntime=={version}",
        RULE,
        "",
        license_file.read_text(encoding="utf-8").strip(),
        "",
        "ONNX Runtime's third-party notices (ThirdPartyNotices.txt from the same wheel):",
        "",
        notices.read_text(encoding="utf-8", errors="replace").strip(),
        "",
    ])


def crates(root_dir: Path) -> list[dict]:
    """The packages the program links: normal dependencies, transitively, for Linux x86_64."""
    meta = json.loads(subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--filter-platform", "x86_64-unknown-linux-gnu"],
        cwd=root_dir, check=True, capture_output=True, text=True).stdout)
    packages = {p["id"]: p for p in meta["packages"]}
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    root = meta["resolve"]["root"]
    seen, todo = set(), [root]
    while todo:
        for dep in nodes[todo.pop()]["deps"]:
            if any(kind["kind"] is None for kind in dep["dep_kinds"]) and dep["pkg"] not in seen:
                seen.add(dep["pkg"])
                todo.append(dep["pkg"])
    return sorted((packages[i] for i in seen), key=lambda p: (p["name"], p["version"]))


def legal_files(crate_dir: Path) -> list[tuple[str, Path]]:
    """A crate's licence files: LICENSE* and the like at its root, every text file in LEGAL_DIRS."""
    found = [(f.name, f) for f in sorted(crate_dir.iterdir()) if f.is_file() and LEGAL_FILE.match(f.name)]
    for folder in sorted(d for d in crate_dir.iterdir() if d.is_dir() and d.name in LEGAL_DIRS):
        found += [(f"{folder.name}/{f.name}", f) for f in sorted(folder.iterdir())
                  if f.is_file() and f.suffix.lower() in (".txt", ".md", "")]
    return found


def crates_section(root_dir: Path) -> str:
    listing, texts = [], {}
    for package in crates(root_dir):
        label = f"{package['name']} {package['version']}"
        listing.append(f"    {label:<40} {package.get('license') or '(no licence expression)'}"
                       + (f"  {package['repository']}" if package.get("repository") else ""))
        files = legal_files(Path(package["manifest_path"]).parent)
        if not files:
            listing[-1] += "  (the crate ships no licence file)"
        for name, f in files:
            text = f.read_text(encoding="utf-8", errors="replace").strip()
            digest = hashlib.sha256(re.sub(r"\s+", " ", text).encode()).hexdigest()
            texts.setdefault(digest, (text, []))[1].append(f"{label} ({name})")
    parts = [
        RULE,
        "3. RUST CRATES COMPILED INTO THE PROGRAM",
        RULE,
        "",
        wrap("Each crate, its version, its licence and its repository; then the licence files the crates "
             "ship (the fonts' licences included), each distinct text once, with the crates that carry it. "
             "Where a crate offers a choice (\"MIT OR Apache-2.0\"), either licence applies."),
        "",
        *listing,
        "",
    ]
    for text, carriers in texts.values():
        parts += ["-" * 100, wrap("Carried by: " + ", ".join(carriers)), "-" * 100, "", text, ""]
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--info", type=Path, required=True, help="the output of `sketch2face info` for the model")
    parser.add_argument("--card", type=Path, required=True, help="the model card (models/README.md)")
    parser.add_argument("--runtime-licenses", type=Path, required=True,
                        help="third_party/onnxruntime/licenses/onnxruntime")
    parser.add_argument("--runtime-version", required=True)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    text = "\n".join([
        "THIRD-PARTY: the terms of what this bundle holds that the sketch2face authors did not write.",
        "sketch2face itself is under the MIT licence: see LICENSE.",
        "",
        model_section(args.info.read_text(encoding="utf-8"), args.card),
        runtime_section(args.runtime_licenses, args.runtime_version),
        crates_section(args.root),
    ])
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=args.out.parent, delete=False) as tmp:
        tmp.write(text)
    os.chmod(tmp.name, 0o644)
    os.replace(tmp.name, args.out)


if __name__ == "__main__":
    main()
