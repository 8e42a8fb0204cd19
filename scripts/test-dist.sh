#!/usr/bin/env bash
# Tests the download (`make dist`) the way a user gets it: builds the bundle, unpacks it into a temporary
# folder whose path has a space, and from another folder, with an empty environment (no ORT_DYLIB_PATH, no
# LD_LIBRARY_PATH, no PATH, no HOME), runs --version, info, generate and serve; opens the app under Xvfb
# when Xvfb is there; checks what the tarball holds and leaves out; validates the desktop entry; and
# installs into a prefix (and into a bare HOME's ~/.local), reinstalls, uninstalls, and compares the file
# lists before and after.
#
#   scripts/test-dist.sh                  the bundle from the debug build (what `cargo test` built; `make test`)
#   PROFILE=release scripts/test-dist.sh  the bundle `make dist` ships
#
# The bundle's binary still knows this source tree (it falls back to third_party/ and models/ here), so every
# run checks the paths it reports: the runtime and the model must be the bundle's own.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$root"

export PROFILE="${PROFILE:-debug}"
tmp="$(mktemp -d)"
server=""
xvfb=""
cleanup() {
    local pid
    for pid in $server $xvfb; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
# A folder's contents, one line per entry: path, type, mode (and a link's target).
listing() { (cd "$1" && find . -printf '%p %y %m %l\n' | LC_ALL=C sort); }
# "W H" of a PNG, from its IHDR chunk.
png_size() {
    python3 - "$1" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read(24)
assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{sys.argv[1]} is not a PNG"
print(*struct.unpack(">II", data[16:24]))
PY
}
command -v desktop-file-validate >/dev/null \
    || fail "desktop-file-validate not found (Debian: apt-get install desktop-file-utils; .ci/run installs it)"

# ---- build ---------------------------------------------------------------------------------------------
DIST_DIR="$tmp/dist" scripts/dist.sh
tarballs=("$tmp"/dist/*.tar.gz)
((${#tarballs[@]} == 1)) || fail "expected one tarball in DIST_DIR, found: ${tarballs[*]}"
tarball="${tarballs[0]}"
name="$(basename "$tarball" .tar.gz)"
version="$("${CARGO:-cargo}" pkgid)"; version="${version##*[#@]}"
[[ "$name" == "sketch2face-$version-linux-x86_64" ]] || fail "tarball named $name, not sketch2face-$version-linux-x86_64"
[[ -f "$tmp/dist/$name.debug" ]] || fail "no $name.debug beside the tarball"
ok "$name.tar.gz: $(($(stat -c %s "$tarball") / 1024)) KiB"

# ---- what it holds ------------------------------------------------------------------------------------
runtime_file="$(readlink third_party/onnxruntime/libonnxruntime.so)"
expected="$(printf "$name/%s\n" "" LICENSE README.md THIRD-PARTY icons/ icons/sketch2face.png icons/sketch2face.svg \
    install.sh libonnxruntime.so "$runtime_file" models/ models/README.md models/sketch2face.onnx \
    models/mesh-v3.onnx models/bank-v3.s2fb models/refine-v3.onnx models/face-detect-v3.onnx sketch2face \
    sketch2face.desktop | LC_ALL=C sort)"
actual="$(tar -tzf "$tarball" | LC_ALL=C sort)"
[[ "$actual" == "$expected" ]] || fail "the tarball holds other files than expected:
$(diff <(echo "$expected") <(echo "$actual") || true)"
ok "the tarball holds exactly the program, the CPU runtime, the models (v2 and face pipeline v3) and card, the docs, the desktop entry, the icons and install.sh"

unpacked="$tmp/un packed"
mkdir -p "$unpacked"
tar -xzf "$tarball" -C "$unpacked"
bundle="$unpacked/$name"
exe="$bundle/sketch2face"
[[ -x "$exe" && -x "$bundle/install.sh" ]] || fail "the program or install.sh is not executable"
[[ "$(readlink "$bundle/libonnxruntime.so")" == "$runtime_file" ]] || fail "libonnxruntime.so does not link to $runtime_file"
sections="$(readelf -S --wide "$exe")"
! grep -qE '\.(symtab|debug_[a-z]+) ' <<< "$sections" || fail "the shipped program has symbols or debug sections"
grep -q '\.gnu_debuglink' <<< "$sections" || fail "the shipped program has no debug link to $name.debug"
[[ "$(png_size "$bundle/icons/sketch2face.png")" == "256 256" ]] || fail "icons/sketch2face.png is not 256 x 256"
grep -q '^Copyright (c) .* the sketch2face authors$' "$bundle/LICENSE" && grep -q '^MIT License$' "$bundle/LICENSE" \
    || fail "LICENSE is not the project's MIT licence"
ok "the program is stripped (its symbols are in $name.debug), the icon is 256 px, LICENSE is MIT"

desktop-file-validate "$bundle/sketch2face.desktop" || fail "the bundle's desktop entry does not validate"
mime="$(sed -n 's/^MimeType=//p' "$bundle/sketch2face.desktop")"
for type in image/png image/jpeg image/bmp image/gif image/webp image/tiff image/openraster; do
    [[ ";$mime" == *";$type;"* ]] || fail "the desktop entry does not open $type"
done
grep -qx 'Exec=sketch2face %f' "$bundle/sketch2face.desktop" || fail "the desktop entry does not pass the file (%f)"
ok "the desktop entry validates and opens PNG, JPEG, BMP, GIF, WebP, TIFF and OpenRaster files"

# ---- it runs from anywhere, with nothing in the environment ---------------------------------------------
elsewhere="$tmp/elsewhere"
mkdir -p "$elsewhere/sketches"
cp assets/sketches/*.png "$elsewhere/sketches/"
bare() { (cd "$elsewhere" && exec env -i "$@"); }

out="$(bare "$exe" --version)" || fail "--version failed: $out"
[[ "$(sed -n 1p <<< "$out")" == "sketch2face $version" ]] || fail "--version's first line is not 'sketch2face $version': $out"
[[ "$(sed -n 2p <<< "$out")" == "ONNX Runtime ${runtime_file#libonnxruntime.so.} ($bundle/libonnxruntime.so)" ]] \
    || fail "--version does not name the bundle's runtime and its version: $out"
[[ "$(sed -n 3p <<< "$out")" == "model $bundle/models/sketch2face.onnx: "* ]] \
    || fail "--version does not name the bundle's model: $out"
ok "--version: $(tr '\n' '|' <<< "$out")"

out="$(bare "$exe" --version --model missing.onnx)" || fail "--version with a missing model failed: $out"
grep -q '^model: not loaded: .*missing.onnx' <<< "$out" || fail "--version does not say the model is missing: $out"
ok "--version says so when the model is missing, and still succeeds"

info="$(bare "$exe" info)" || fail "info failed from the bundle: $info"
grep -qxF "model:      $bundle/models/sketch2face.onnx" <<< "$info" || fail "info does not use the bundle's model:
$info"
grep -qxF "runtime:    $bundle/libonnxruntime.so" <<< "$info" || fail "info does not use the bundle's runtime:
$info"
grep -q '^provider:   CPU' <<< "$info" || fail "info does not run on the CPU: $info"
side="$(sed -n 's/^resolution: \([0-9]*\) x .*/\1/p' <<< "$info")"
[[ -n "$side" ]] || fail "info prints no resolution: $info"
ok "info: the bundle's runtime and model, ${side} x ${side}, on the CPU"

license="$(sed -n 's/^  sketch2face.license: //p' <<< "$info")"
[[ -n "$license" ]] || fail "the model records no training-data terms"
grep -qF "${license:0:60}" "$bundle/THIRD-PARTY" || fail "THIRD-PARTY does not carry the model's training-data terms"
grep -q 'Copyright (c) Microsoft Corporation' "$bundle/THIRD-PARTY" || fail "THIRD-PARTY lacks ONNX Runtime's licence"
grep -q 'THIRD PARTY SOFTWARE NOTICES' "$bundle/THIRD-PARTY" || fail "THIRD-PARTY lacks ONNX Runtime's notices"
grep -qE '^    eframe [0-9.]+ +MIT OR Apache-2.0' "$bundle/THIRD-PARTY" || fail "THIRD-PARTY does not list the Rust crates"
ok "THIRD-PARTY: the model's data terms, ONNX Runtime's licence and notices, the Rust crates"

sketches=("$elsewhere"/sketches/*.png)
relative=("${sketches[@]/#"$elsewhere"\/}")  # sketches/NAME.png, from the folder it runs in
out="$(bare "$exe" generate "${relative[@]}" --out faces --size 200)" || fail "generate failed from the bundle: $out"
faces=("$elsewhere"/faces/*.png)
((${#faces[@]} == ${#sketches[@]})) || fail "generate wrote ${#faces[@]} faces for ${#sketches[@]} sketches: $out"
for face in "${faces[@]}"; do
    [[ "$(png_size "$face")" == "200 200" ]] || fail "$face is not a 200 x 200 PNG"
done
! cmp -s "${faces[0]}" "${faces[1]}" || fail "two different sketches gave the same face"
ok "generate: ${#faces[@]} faces at 200 px, from a bare environment in another folder"

# Face pipeline v3 from the bundle's own files: a look photo's face on the first sketch.
cp tests/data/sketchify/astronaut_face.png "$elsewhere/look.png"
out="$(bare "$exe" generate "${relative[0]}" --look look.png --out looked 2>&1)" || fail "generate --look failed from the bundle: $out"
grep -qF "mesh model $bundle/models/mesh-v3.onnx" <<< "$out" || fail "generate --look does not use the bundle's mesh model: $out"
grep -qF "refine model $bundle/models/refine-v3.onnx" <<< "$out" || fail "generate --look does not use the bundle's refine model: $out"
[[ "$(png_size "$elsewhere/looked/$(basename "${relative[0]}")")" == "256 256" ]] || fail "generate --look wrote no 256 px face: $out"
ok "generate --look: face pipeline v3 and the face detector from the bundle's models"

if bare "$exe" help serve >/dev/null 2>&1; then
    # exec all the way down, so that $! is the server itself.
    (cd "$elsewhere" && exec env -i "$exe" serve --addr 127.0.0.1:0 --workers 1 > "$tmp/serve.log" 2>&1) &
    server=$!
    port=""
    for _ in $(seq 300); do
        port="$(sed -n 's|^listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$tmp/serve.log")"
        [[ -n "$port" ]] && break
        kill -0 "$server" 2>/dev/null || fail "serve stopped: $(cat "$tmp/serve.log")"
        sleep 0.1
    done
    [[ -n "$port" ]] || fail "serve printed no address in 30 s: $(cat "$tmp/serve.log")"
    python3 - "$port" "${sketches[0]}" <<'PY' || fail "serve did not answer from the bundle: $(cat "$tmp/serve.log")"
import sys, urllib.request
port, sketch = sys.argv[1], sys.argv[2]
boundary = "sketch2face-test-dist"
body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"sketch.png\"\r\n"
        "Content-Type: image/png\r\n\r\n").encode() + open(sketch, "rb").read() + f"\r\n--{boundary}--\r\n".encode()
request = urllib.request.Request(f"http://127.0.0.1:{port}/gen", data=body,
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
with urllib.request.urlopen(request, timeout=30) as reply:
    face = reply.read()
assert reply.status == 200 and face[:8] == b"\x89PNG\r\n\x1a\n", (reply.status, face[:40])
PY
    kill "$server"
    wait "$server" 2>/dev/null || true
    server=""
    ok "serve: POST /gen answered a PNG face"
else
    echo "skip: this build has no serve command"
fi

if command -v Xvfb >/dev/null; then
    # A virtual display of its own (Xvfb picks a free number and writes it to fd 3; no xauth needed).
    Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3> "$tmp/display" > "$tmp/xvfb.log" 2>&1 &
    xvfb=$!
    for _ in $(seq 100); do [[ -s "$tmp/display" ]] && break; sleep 0.1; done
    [[ -s "$tmp/display" ]] || fail "Xvfb did not start: $(cat "$tmp/xvfb.log")"
    # The window opens and stays open; `timeout` ends it (status 124) after a few seconds.
    mkdir -p "$tmp/app-home"
    status=0
    (cd "$elsewhere" && exec timeout 6 env -i DISPLAY=":$(cat "$tmp/display")" HOME="$tmp/app-home" \
        "$exe" sketches/face_narrow_fringe.png) > "$tmp/app.log" 2>&1 || status=$?
    kill "$xvfb" 2>/dev/null || true
    wait "$xvfb" 2>/dev/null || true
    xvfb=""
    ((status == 124)) || fail "the app did not keep running (status $status): $(tail -20 "$tmp/app.log")"
    ok "the app started under Xvfb with a sketch, in an empty environment, and kept running for 6 s"
else
    echo "skip: no Xvfb, the app's window is not opened"
fi

# ---- install.sh -----------------------------------------------------------------------------------------
check_installed() {  # check_installed PREFIX
    local prefix="$1" entry
    [[ "$(readlink "$prefix/bin/sketch2face")" == "../lib/sketch2face/sketch2face" ]] || fail "no bin/sketch2face link in $prefix"
    out="$(bare "$prefix/bin/sketch2face" --version)" || fail "the installed program failed: $out"
    [[ "$(sed -n 2p <<< "$out")" == "ONNX Runtime "*"($prefix/lib/sketch2face/libonnxruntime.so)" ]] \
        || fail "the installed program does not use its own runtime: $out"
    [[ "$(sed -n 3p <<< "$out")" == "model $prefix/lib/sketch2face/models/sketch2face.onnx: "* ]] \
        || fail "the installed program does not use its own model: $out"
    entry="$prefix/share/applications/sketch2face.desktop"
    desktop-file-validate "$entry" || fail "the installed desktop entry does not validate"
    grep -qxF "Exec=\"$prefix/bin/sketch2face\" %f" "$entry" || fail "the installed entry does not run the installed program:
$(grep ^Exec= "$entry")"
    cmp -s "$prefix/share/icons/hicolor/256x256/apps/sketch2face.png" "$bundle/icons/sketch2face.png" \
        && cmp -s "$prefix/share/icons/hicolor/scalable/apps/sketch2face.svg" "$bundle/icons/sketch2face.svg" \
        || fail "the icons are not installed in $prefix/share/icons/hicolor"
}

# Into a prefix that does not exist yet (its path has a space): afterwards, not even the prefix is left.
parent="$tmp/install"
mkdir -p "$parent"
before="$(listing "$parent")"
prefix="$parent/pre fix"
"$bundle/install.sh" --prefix "$prefix" > /dev/null
check_installed "$prefix"
"$bundle/install.sh" --prefix "$prefix" > /dev/null  # again: an update in place
check_installed "$prefix"
"$prefix/lib/sketch2face/install.sh" --uninstall --prefix "$prefix" > /dev/null
after="$(listing "$parent")"
[[ "$after" == "$before" ]] || fail "--uninstall left files behind:
$(diff <(echo "$before") <(echo "$after") || true)"
ok "install.sh --prefix (twice), then --uninstall from the installed copy: nothing left, not even the prefix"

# Into a prefix that has other programs' files and folders: they stay, exactly as they were.
prefix="$tmp/shared"
mkdir -p "$prefix/bin" "$prefix/share/applications"
echo other > "$prefix/bin/other-tool"
echo "[Desktop Entry]" > "$prefix/share/applications/other.desktop"
before="$(listing "$prefix")"
"$bundle/install.sh" --prefix "$prefix" > /dev/null
check_installed "$prefix"
"$bundle/install.sh" --uninstall --prefix "$prefix" > /dev/null
after="$(listing "$prefix")"
[[ "$after" == "$before" ]] || fail "--uninstall changed a shared prefix:
$(diff <(echo "$before") <(echo "$after") || true)"
ok "install.sh into a shared prefix, then --uninstall: the other files and folders are as they were"

# The default: ~/.local of a bare environment with only HOME set.
home="$tmp/home"
mkdir -p "$home"
before="$(listing "$home")"
env -i HOME="$home" "$bundle/install.sh" > /dev/null
check_installed "$home/.local"
env -i HOME="$home" "$home/.local/lib/sketch2face/install.sh" --uninstall > /dev/null
after="$(listing "$home")"
[[ "$after" == "$before" ]] || fail "--uninstall from ~/.local left files behind:
$(diff <(echo "$before") <(echo "$after") || true)"
ok "install.sh into ~/.local, then --uninstall: nothing left"

# Refusals: a bin/sketch2face that is not ours, and an unknown argument.
prefix="$tmp/taken"
mkdir -p "$prefix/bin"
echo "#!/bin/sh" > "$prefix/bin/sketch2face"
if out="$("$bundle/install.sh" --prefix "$prefix" 2>&1)"; then fail "install.sh replaced another program's bin/sketch2face"; fi
grep -q "is not sketch2face's link" <<< "$out" || fail "install.sh did not say why it refused: $out"
[[ "$(cat "$prefix/bin/sketch2face")" == "#!/bin/sh" && ! -e "$prefix/lib" ]] || fail "a refused install changed the prefix"
if "$bundle/install.sh" --bogus > /dev/null 2>&1; then fail "install.sh accepted an unknown argument"; fi
ok "install.sh refuses to replace another program's bin/sketch2face, and unknown arguments"

echo "PASS: the bundle ($PROFILE build) runs from anywhere with an empty environment, installs and uninstalls cleanly"
