#!/usr/bin/env bash
# Render the hand-drawn icon assets/icon/sketch2face.svg to assets/icon/sketch2face.png (256 px), the PNG that
# `make dist` ships and the app embeds as its window icon. Run it after editing the SVG and commit both.
# Needs rsvg-convert (Debian: librsvg2-bin).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../assets/icon"

command -v rsvg-convert >/dev/null \
    || { echo "error: rsvg-convert not found (Debian: apt-get install librsvg2-bin)" >&2; exit 1; }
tmp="$(mktemp sketch2face.png.XXXXXX)"
trap 'rm -f "$tmp"' EXIT
rsvg-convert --width 256 --height 256 --format png sketch2face.svg --output "$tmp"
chmod 644 "$tmp"
mv "$tmp" sketch2face.png
echo "wrote assets/icon/sketch2face.png (256 x 256)"
