#!/usr/bin/env bash
# End-to-end: the app never loses a drawing to a crash. Under a virtual X display it starts the
# real app, draws three strokes with xdotool as a person would, waits for the autosave, kills
# the app with `kill -9`, starts it again and checks that the strokes are back: the autosave
# holds them, and the restarted window shows the same canvas as before the kill.
#
#   scripts/app_recovery.sh            needs: xvfb xdotool imagemagick (x11-apps for xwd)
#
# Uses $SKETCH2FACE_BIN (default target/debug/sketch2face, which `cargo test` builds), a fresh
# data folder, and the software renderer when there is no GPU. Exits 0 when the drawing came
# back, 1 (saying why) when not.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin=${SKETCH2FACE_BIN:-target/debug/sketch2face}
[[ -x $bin ]] || { echo "error: $bin not found; build it first (cargo build)" >&2; exit 1; }
for tool in Xvfb xdotool xwd compare identify python3; do
    command -v "$tool" >/dev/null || { echo "error: $tool not found (apt-get install xvfb xdotool x11-apps imagemagick)" >&2; exit 1; }
done

app_signal=KILL
# shellcheck source=scripts/xvfb_session.sh
source scripts/xvfb_session.sh
autosave=$XDG_DATA_HOME/sketch2face/autosave.ora

# The canvas, where it is with and without the variations strip (the window's default size at
# the top-left corner): x 132..551, y 66..485. Strokes and comparisons stay inside it.
region=380x380+140+80

start_app() {  # $1: first or restart, for the logs
    local try log
    for try in 1 2; do
        log=$tmp/app-$1-$try.log
        "$bin" >"$log" 2>&1 &
        app=$!
        for _ in $(seq 120); do  # the window, then the model (a debug build is slow)
            xdotool search --name '^sketch2face$' >/dev/null 2>&1 && break
            kill -0 "$app" 2>/dev/null || break  # the app ended without a window
            sleep 0.5
        done
        xdotool search --name '^sketch2face$' >/dev/null 2>&1 && break
        # Seen twice in clean-clone CI runs here, never alone: the app could not reach the X
        # server Xvfb had just said was ready. One more try tells a display hiccup from a
        # broken app; any other failure, or a second one, ends the test.
        if ((try == 1)) && ! kill -0 "$app" 2>/dev/null && grep -q "Failed to open connection to X server" "$log"; then
            echo "note: the app could not reach the X server ($1 start); trying once more" >&2
            sleep 1
            continue
        fi
        echo "error: no window ($1 start); app log:" >&2
        cat "$tmp"/app-*.log >&2
        echo "Xvfb ($(kill -0 "$xvfb" 2>/dev/null && echo running || echo stopped)) log:" >&2
        cat "$tmp/xvfb.log" >&2
        exit 1
    done
    # Until the (white) canvas is painted: a debug build on a software renderer takes a while.
    for _ in $(seq 120); do
        xwd -root -silent >"$tmp/probe.xwd"
        [[ $(identify -format '%[fx:mean>0.5]' "xwd:$tmp/probe.xwd[$region]" 2>/dev/null) == 1 ]] && break
        sleep 1
    done
    sleep 3
}

shot() {
    xdotool mousemove 1270 790  # the pointer off the window
    sleep 1
    xwd -root -silent >"$1"
}

stroke() {  # x0 y0 x1 y1 ...: one stroke through these points
    local cmd=(xdotool mousemove "$1" "$2" sleep 0.05 mousedown 1 sleep 0.05)
    shift 2
    while (($#)); do
        cmd+=(mousemove "$1" "$2" sleep 0.03)
        shift 2
    done
    cmd+=(sleep 0.05 mouseup 1 sleep 0.3)
    "${cmd[@]}"
}

start_app first
shot "$tmp/blank.xwd"
stroke 200 150 260 140 330 150 400 160 460 150
stroke 250 250 300 300 350 320 400 300 450 250
stroke 330 180 320 240 340 260
autosaved_strokes() {
    [[ -f $autosave ]] || { echo 0; return; }
    python3 - "$autosave" <<'EOF' 2>/dev/null || echo 0
import json, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    print(len(json.loads(z.read("sketch2face/drawing.json"))["drawing"]["strokes"]))
EOF
}
# The autosave follows each stroke within half a second of the app handling it (a slow debug
# build may be seconds behind the pointer).
for _ in $(seq 120); do
    [[ $(autosaved_strokes) == 3 ]] && break
    sleep 0.5
done
strokes=$(autosaved_strokes)
[[ $strokes == 3 ]] || { echo "error: the autosave at $autosave holds $strokes strokes, not 3" >&2; exit 1; }
sleep 2
shot "$tmp/drawn.xwd"

kill -9 "$app"
wait "$app" 2>/dev/null || true
app=
[[ -f $autosave ]] || { echo "error: the autosave is gone after kill -9" >&2; exit 1; }
start_app restart
shot "$tmp/restored.xwd"

# Pixels of the canvas region that differ between two screenshots (ImageMagick's compare).
changed() { compare -metric AE -fuzz 10% "xwd:$1[$region]" "xwd:$2[$region]" null: 2>&1 || true; }
# The strokes changed thousands of pixels; the restored canvas must match the drawn one but for
# a few anti-aliased edge pixels (1/1000 of the region).
drawn=$(changed "$tmp/blank.xwd" "$tmp/drawn.xwd")
restored=$(changed "$tmp/drawn.xwd" "$tmp/restored.xwd")
echo "pixels changed by the strokes: $drawn; differing after the restart: $restored"
((drawn > 1000)) || { echo "error: the strokes did not show on the canvas" >&2; exit 1; }
((restored <= 144)) || { echo "error: the restarted app does not show the drawing" >&2; exit 1; }
echo "ok: 3 strokes drawn, kill -9, restarted: the drawing is back"
