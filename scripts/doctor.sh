#!/usr/bin/env bash
# Check what building, running and testing sketch2face need on this machine (`make doctor`), and
# say for each missing piece how to get it. Exit status 1 when something required is missing.
# Written for Debian and Ubuntu (the apt package names); the checks themselves work anywhere.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
min_rust=1.95
min_python=3.11
# Free space `make run` and `make test` need (README, Setup): .venv/ (5.9 GB), target/ (debug
# 4.0 GB, release up to 1.4 GB), pip's cache of the venv's downloads (3.2 GB), the runtime.
want_free_gb=15
# Below this even `make run` (runtime, release build) does not fit.
need_free_gb=3

sudo=""
[[ "$(id -u)" == 0 ]] || sudo="sudo "

missing_packages=()
rust_fix=""
failed=0

ok() { printf '  ok       %s\n' "$1"; }
note() { printf '  note     %s\n' "$1"; }
# missing WHAT PACKAGE: something required, and the apt package that provides it.
missing() {
    printf '  MISSING  %s (apt package %s)\n' "$1" "$2"
    missing_packages+=("$2")
    failed=1
}

# True when version $1 (a.b[.c]) is at least $2 (a.b).
at_least() {
    local have_major have_minor want_major want_minor
    IFS=. read -r have_major have_minor _ <<<"$1"
    IFS=. read -r want_major want_minor <<<"$2"
    ((have_major > want_major || (have_major == want_major && have_minor >= want_minor)))
}

echo "sketch2face doctor: what building, running and testing need"
echo

# ---- Rust (distribution packages are too old: rustup) -------------------------------------------
if command -v rustup >/dev/null; then
    rustup_fix="rustup toolchain install stable (or: rustup update)"
else
    rustup_fix="curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y && . \"\$HOME/.cargo/env\""
fi
for tool in rustc cargo; do
    if ! command -v "$tool" >/dev/null; then
        printf '  MISSING  %s (Rust %s or later, from rustup)\n' "$tool" "$min_rust"
        rust_fix="$rustup_fix"
        failed=1
        continue
    fi
    version="$("$tool" --version 2>/dev/null | awk '{print $2}')"
    if [[ "$version" =~ ^[0-9]+\.[0-9]+ ]] && at_least "$version" "$min_rust"; then
        ok "$tool $version"
    else
        printf '  MISSING  %s %s or later (found %s)\n' "$tool" "$min_rust" "${version:-no version}"
        rust_fix="$rustup_fix"
        failed=1
    fi
done

# ---- Python (the training venv, and pip fetches the ONNX Runtime wheel) ---------------------------
if ! command -v python3 >/dev/null; then
    missing "python3 $min_python or later" python3
else
    version="$(python3 -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
    if at_least "$version" "$min_python"; then
        ok "python3 $version"
    else
        printf '  MISSING  python3 %s or later (found %s; Debian 12 and Ubuntu 24.04 have one)\n' \
            "$min_python" "$version"
        failed=1
    fi
    # Debian splits ensurepip, which `python3 -m venv` needs, into python3-venv.
    if python3 -c 'import venv, ensurepip' 2>/dev/null; then
        ok "python3 venv module"
    else
        missing "python3's venv module (with ensurepip)" python3-venv
    fi
    if python3 -m pip --version >/dev/null 2>&1; then
        ok "python3 pip module"
    else
        missing "python3's pip module" python3-pip
    fi
fi

# ---- build tools ------------------------------------------------------------------------------------
for entry in make:make cc:build-essential pkg-config:pkg-config git:git; do
    tool="${entry%%:*}"
    if command -v "$tool" >/dev/null; then ok "$tool"; else missing "$tool" "${entry#*:}"; fi
done

# ---- the libraries the app (eframe, winit, wgpu) opens at run time ---------------------------------
if command -v ldconfig >/dev/null; then ldconfig=ldconfig; else ldconfig=/sbin/ldconfig; fi
libraries="$("$ldconfig" -p 2>/dev/null | awk 'NR > 1 {print $1}')"
has_library() { grep -qxF "$1" <<<"$libraries"; }
for entry in libxkbcommon-x11.so.0:libxkbcommon-x11-0 libX11-xcb.so.1:libx11-xcb1 \
             libwayland-client.so.0:libwayland-client0; do
    library="${entry%%:*}"
    if has_library "$library"; then ok "$library"; else missing "$library" "${entry#*:}"; fi
done
# wgpu draws with Vulkan or with OpenGL through EGL; without a GPU, Mesa's software drivers
# (lavapipe, llvmpipe) do, which is how the headless app tests render.
vulkan=0 egl=0
if has_library libvulkan.so.1 &&
    { compgen -G '/usr/share/vulkan/icd.d/*.json' || compgen -G '/etc/vulkan/icd.d/*.json'; } >/dev/null; then
    vulkan=1
    ok "Vulkan (libvulkan.so.1 and a driver)"
fi
if has_library libEGL.so.1 && compgen -G '/usr/share/glvnd/egl_vendor.d/*.json' >/dev/null; then
    egl=1
    ok "OpenGL through EGL (libEGL.so.1 and a driver)"
fi
if ((vulkan + egl == 0)); then
    printf '  MISSING  a graphics driver for wgpu: Vulkan or OpenGL through EGL (apt packages libvulkan1 mesa-vulkan-drivers libegl1)\n'
    missing_packages+=(libvulkan1 mesa-vulkan-drivers libegl1)
    failed=1
elif ((vulkan == 0)); then
    note "no Vulkan driver: wgpu uses OpenGL through EGL (CI uses Vulkan: apt packages libvulkan1 mesa-vulkan-drivers)"
fi

# ---- disk space --------------------------------------------------------------------------------------
free_gb="$(df -P -k "$root" | awk 'NR == 2 {printf "%d", $4 / 1048576}')"
if ((free_gb >= want_free_gb)); then
    ok "${free_gb} GB free in $root (make run and make test need about $want_free_gb GB)"
elif ((free_gb >= need_free_gb)); then
    note "only ${free_gb} GB free in $root: enough for make run and make test-rust, not for make test (about $want_free_gb GB)"
else
    printf '  MISSING  disk space: %s GB free in %s, make run needs about %s GB and make test %s GB\n' \
        "$free_gb" "$root" "$need_free_gb" "$want_free_gb"
    failed=1
fi

# ---- optional: what only some tasks need ----------------------------------------------------------------
if [[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]]; then
    ok "a display (${WAYLAND_DISPLAY:-$DISPLAY})"
else
    note "no display (\$DISPLAY, \$WAYLAND_DISPLAY): the app needs one; the command line and the tests do not"
fi
if command -v Xvfb >/dev/null; then
    ok "Xvfb"
else
    note "no Xvfb: only scripts/app_screenshot.sh needs it (apt package xvfb)"
fi
if command -v nvidia-smi >/dev/null; then
    ok "an NVIDIA driver (for make runtime-gpu)"
else
    note "no NVIDIA driver: everything runs on the CPU (make runtime-gpu needs one)"
fi

echo
if ((failed == 0)); then
    echo "Everything required is present."
    exit 0
fi
echo "Something required is missing. To get it:"
if ((${#missing_packages[@]})); then
    echo "  ${sudo}apt-get install -y ${missing_packages[*]}"
fi
if [[ -n "$rust_fix" ]]; then
    echo "  $rust_fix"
fi
exit 1
