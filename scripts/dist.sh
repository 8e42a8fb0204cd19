#!/usr/bin/env bash
# Build the download: dist/sketch2face-<version>-linux-x86_64.tar.gz, one folder of the same name that runs
# from anywhere with no environment (no ORT_DYLIB_PATH, no LD_LIBRARY_PATH, no Rust):
#
#   sketch2face                 the program, stripped (its symbols go to the .debug file beside the tarball)
#   libonnxruntime.so[.1.31.1]  ONNX Runtime for the CPU (the program loads it from beside itself)
#   models/sketch2face.onnx     the default model (the v2 generator), and the cards models/README.md
#   models/*-v3.*               face pipeline v3 (photographic faces): mesh, bank, refine, face detector
#   README.md LICENSE THIRD-PARTY
#   sketch2face.desktop icons/sketch2face.{png,svg} install.sh
#
#   scripts/dist.sh                  the release build (`make dist`)
#   PROFILE=debug scripts/dist.sh    the debug build, already there after `cargo test` (scripts/test-dist.sh)
#   DIST_DIR=DIR scripts/dist.sh     write the tarball and the .debug file into DIR (default dist/)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$root"

app=sketch2face
profile="${PROFILE:-release}"
dist_dir="${DIST_DIR:-$root/dist}"
cargo="${CARGO:-cargo}"
target_dir="${CARGO_TARGET_DIR:-$root/target}"

die() { echo "error: $*" >&2; exit 1; }
for tool in strip objcopy tar gzip python3; do
    command -v "$tool" >/dev/null || die "$tool not found (Debian: build-essential provides strip and objcopy)"
done

# The debug program is the one `cargo test` builds (with the dev-dependencies' features, which
# `cargo build` would not use and so build again): right after `cargo test` this builds nothing.
case "$profile" in
    release) build=(build --release --bin "$app") ;;
    debug) build=(test --no-run) ;;
    *) die "PROFILE must be release or debug, not '$profile'" ;;
esac
scripts/fetch-onnxruntime.sh cpu
echo "building $app ($profile): $cargo ${build[*]}"
"$cargo" "${build[@]}"
binary="$target_dir/$profile/$app"
[[ -x "$binary" ]] || die "$binary was not built"

pkgid="$("$cargo" pkgid)"
version="${pkgid##*[#@]}"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || die "cannot read the version from cargo pkgid: $pkgid"
name="$app-$version-linux-x86_64"

runtime_dir="$root/third_party/onnxruntime"
runtime_file="$(readlink "$runtime_dir/libonnxruntime.so")" \
    || die "$runtime_dir/libonnxruntime.so is not the link scripts/fetch-onnxruntime.sh makes"
runtime_version="${runtime_file#libonnxruntime.so.}"

# Everything is made in a temporary folder inside DIST_DIR and moved into place when complete.
mkdir -p "$dist_dir"
work="$(mktemp -d "$dist_dir/.$name.XXXXXX")"
trap 'rm -rf "$work"' EXIT
stage="$work/$name"
mkdir -p "$stage/models" "$stage/icons"

# The program without its symbols; they are kept in NAME.debug, which gdb finds through the debug link.
objcopy --only-keep-debug "$binary" "$work/$name.debug"
strip --strip-all -o "$stage/$app" "$binary"
(cd "$work" && objcopy --add-gnu-debuglink="$name.debug" "$stage/$app")

cp "$runtime_dir/$runtime_file" "$stage/"
ln -s "$runtime_file" "$stage/libonnxruntime.so"
cp models/sketch2face.onnx models/README.md "$stage/models/"
cp models/mesh-v3.onnx models/bank-v3.s2fb models/refine-v3.onnx models/face-detect-v3.onnx "$stage/models/"
cp README.md LICENSE "$stage/"
cp packaging/$app.desktop "$stage/"
cp packaging/install.sh "$stage/"
cp assets/icon/$app.png assets/icon/$app.svg "$stage/icons/"

# The bundle's own program reads the model's terms: this also checks that it runs from there, bare.
env -i "$stage/$app" info --device cpu > "$work/info.txt" \
    || die "the bundled $app could not load its model (see the error above)"
python3 scripts/third_party.py --info "$work/info.txt" --card models/README.md \
    --runtime-licenses "$runtime_dir/licenses/onnxruntime" --runtime-version "$runtime_version" \
    --root "$root" --out "$stage/THIRD-PARTY"

chmod -R u=rwX,go=rX "$stage"
chmod 755 "$stage/$app" "$stage/install.sh"

# Reproducible: sorted names, no owners, file times from the last commit.
mtime="$(git log -1 --format=%ct 2>/dev/null || date +%s)"
tarball="$dist_dir/$name.tar.gz"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$mtime" -C "$work" -cf - "$name" \
    | gzip -9 -n > "$work/$name.tar.gz"
mv "$work/$name.tar.gz" "$tarball"
mv "$work/$name.debug" "$dist_dir/$name.debug"

size="$(stat -c %s "$tarball")"
unpacked="$(du -sb "$stage" | cut -f1)"
echo "wrote ${tarball#"$root"/}: $((size / 1024)) KiB ($((size / 1024 / 1024)) MiB; $((unpacked / 1024 / 1024)) MiB unpacked)"
echo "wrote ${dist_dir#"$root"/}/$name.debug (the program's symbols, not shipped)"
