#!/usr/bin/env bash
# Run the real app under a virtual X display, draw a face with xdotool as a person would, paint
# colour hints, wait for the variations strip, and save a screenshot (default
# assets/screenshot.png, the one in the README).
#
#   scripts/app_screenshot.sh [OUT.png]        needs: xvfb xdotool imagemagick (x11-apps for xwd)
#
# Uses target/release/sketch2face (build it first: `make build`), a fresh settings folder (so
# the window has its default 1120 x 640 size) and the software renderer when there is no GPU.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=${1:-assets/screenshot.png}
bin=${SKETCH2FACE_BIN:-target/release/sketch2face}
[[ -x $bin ]] || { echo "error: $bin not found; run \`make build\` first" >&2; exit 1; }

# shellcheck source=scripts/xvfb_session.sh
source scripts/xvfb_session.sh

"$bin" >"$tmp/app.log" 2>&1 &
app=$!
for _ in $(seq 60); do  # wait for the window and the model
    xdotool search --name '^sketch2face$' >/dev/null 2>&1 && break
    sleep 0.5
done
sleep 5

python3 scripts/draw_face_xdotool.py --colours
sleep "${SCREENSHOT_WAIT:-4}"  # the strip comes half a second after the last stroke
xdotool mousemove 1270 790  # the pointer off the window
sleep 1
xwd -root -silent | convert xwd:- -crop 1120x640+0+0 +repage -strip "PNG24:$out"
echo "wrote $out"
