#!/usr/bin/env bash
# Fetch the pinned ONNX Runtime shared library from its PyPI wheel into third_party/ (git-ignored).
#
#   scripts/fetch-onnxruntime.sh cpu   -> third_party/onnxruntime/      (onnxruntime==1.31.1, ~24 MB download)
#   scripts/fetch-onnxruntime.sh gpu   -> third_party/onnxruntime-gpu/  (onnxruntime-gpu==1.31.1 + CUDA 13 + cuDNN 9
#                                                                          runtime wheels, several GB)
#
# Each folder is flat: libonnxruntime.so (a symlink to the versioned file) and, for gpu, the CUDA EP and every CUDA /
# cuDNN library it needs. The engine finds libonnxruntime.so there by itself and preloads the CUDA libraries from the
# same folder; LD_LIBRARY_PATH=third_party/onnxruntime-gpu is the manual alternative.
# The licence and notice files of every wheel go to licenses/<wheel name>/ beside them (`make dist` ships ONNX
# Runtime's LICENSE and ThirdPartyNotices.txt in THIRD-PARTY).
#
# Idempotent: a STAMP file records what was installed; when it matches, nothing is downloaded.
# Needs python3 with pip (uses .venv/bin/python when present); PIP_CACHE_DIR is honoured, so re-fetches are fast.
set -euo pipefail

variant="${1:-cpu}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ort_version="1.31.1"

# The wheels the gpu variant needs: exactly what `pip install onnxruntime-gpu[cuda,cudnn]==1.31.1` resolves to
# (checked with `pip install --dry-run --report`), pinned. nvjitlink is needed by cuBLAS.
gpu_wheels=(
    "onnxruntime-gpu==${ort_version}"
    "nvidia-cuda-runtime==13.5.37"
    "nvidia-cuda-nvrtc==13.5.37"
    "nvidia-cublas==13.10.0.20"
    "nvidia-nvjitlink==13.5.37"
    "nvidia-curand==10.4.5.25"
    "nvidia-cufft==12.5.0.14"
    "nvidia-cudnn-cu13==9.28.1.4"
)

case "$variant" in
    cpu) dest="$root/third_party/onnxruntime"; wheels=("onnxruntime==${ort_version}") ;;
    gpu) dest="$root/third_party/onnxruntime-gpu"; wheels=("${gpu_wheels[@]}") ;;
    *) echo "usage: $0 [cpu|gpu]" >&2; exit 2 ;;
esac

stamp="$dest/STAMP"
want="${wheels[*]}"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -e "$dest/libonnxruntime.so" && -d "$dest/licenses" ]]; then
    echo "ONNX Runtime ($variant) $ort_version already in ${dest#"$root"/}"
    exit 0
fi

if [[ -x "$root/.venv/bin/python" ]]; then python="$root/.venv/bin/python"; else python="${PYTHON:-python3}"; fi
if ! "$python" -m pip --version >/dev/null 2>&1; then
    echo "error: $python has no pip; install python3-pip (Debian) or run 'make venv' first" >&2
    exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Wheels are tagged manylinux_2_28 (onnxruntime) down to manylinux1 (cuBLAS); pip only takes the tags it is given.
platforms=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 \
         manylinux_2_12_x86_64 manylinux2010_x86_64 manylinux_2_5_x86_64 manylinux1_x86_64; do
    platforms+=(--platform "$p")
done

echo "fetching ${wheels[*]}"
"$python" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    "${platforms[@]}" --python-version 3.11 --dest "$tmp/wheels" "${wheels[@]}"

# Extract every shared library (lib*.so, lib*.so.N...) from the wheels into one flat folder, and each wheel's licence
# and notice files (onnxruntime keeps them in its package folder, NVIDIA's wheels in their dist-info) into
# licenses/<wheel name>/. Python bindings (*.cpython-*.so) are left out.
"$python" - "$tmp/wheels" "$tmp/out" <<'PY'
import pathlib, re, shutil, sys, zipfile
wheels, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
out.mkdir(parents=True)
lib = re.compile(r"(^|/)(lib[^/]+\.so(\.[0-9]+)*)$")
# At most one folder deep (package or dist-info): LICENSE, License.txt, ThirdPartyNotices.txt, NOTICE, ...
legal = re.compile(r"^[^/]+/(?:licenses/)?((?:LICEN[CS]E|COPYING|NOTICE|ThirdPartyNotices)[^/]*)$", re.IGNORECASE)
for wheel in sorted(wheels.glob("*.whl")):
    project = wheel.name.split("-")[0]
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            if m := lib.search(name):
                target = out / m.group(2)
            elif m := legal.match(name):
                target = out / "licenses" / project / m.group(1)
                target.parent.mkdir(parents=True, exist_ok=True)
            else:
                continue
            with z.open(name) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
PY

ln -sf "libonnxruntime.so.${ort_version}" "$tmp/out/libonnxruntime.so"
[[ -f "$tmp/out/libonnxruntime.so.${ort_version}" ]] || { echo "error: libonnxruntime.so.${ort_version} not in the wheel" >&2; exit 1; }
compgen -G "$tmp/out/licenses/onnxruntime*/LICENSE" >/dev/null \
    || { echo "error: ONNX Runtime's LICENSE not in the wheel (looked for <package>/LICENSE)" >&2; exit 1; }
echo "$want" > "$tmp/out/STAMP"

rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
mv "$tmp/out" "$dest"
echo "ONNX Runtime ($variant) $ort_version installed in ${dest#"$root"/}:"
ls "$dest" | sed 's/^/  /'
