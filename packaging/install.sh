#!/usr/bin/env bash
# Install sketch2face from this unpacked bundle for one user (~/.local) or into a prefix, or remove it.
#
#   ./install.sh                           install into ~/.local
#   ./install.sh --prefix DIR              install into DIR
#   ./install.sh --uninstall [--prefix DIR]
#
# What goes where under the prefix:
#   lib/sketch2face/          this bundle: the program, ONNX Runtime, the model, the licences, this script
#   bin/sketch2face           a relative symbolic link to ../lib/sketch2face/sketch2face
#   share/applications/sketch2face.desktop                 (Exec= is the absolute path of bin/sketch2face)
#   share/icons/hicolor/256x256/apps/sketch2face.png, share/icons/hicolor/scalable/apps/sketch2face.svg
# The program resolves the link and finds ONNX Runtime and the model beside its real path, so it needs no
# environment variable. lib/sketch2face/MANIFEST lists what the install made, folders included; --uninstall
# removes exactly that (a folder only when it is empty), so an uninstall leaves the prefix as it was.
# Desktop and icon caches are refreshed only where they already exist, so none is ever created.
set -euo pipefail

app=sketch2face
bundle="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"

die() { echo "error: $*" >&2; exit 1; }
usage() { sed -n '2,6s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

prefix=""
uninstall=false
while (($#)); do
    case "$1" in
        --prefix) (($# >= 2)) || die "--prefix needs a folder"; prefix="$2"; shift 2 ;;
        --prefix=*) prefix="${1#--prefix=}"; shift ;;
        --uninstall) uninstall=true; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done
if [[ -z "$prefix" ]]; then
    [[ -n "${HOME:-}" ]] || die "HOME is not set; give the folder with --prefix DIR"
    prefix="$HOME/.local"
fi
[[ "$prefix" == /* ]] || prefix="$PWD/$prefix"
prefix="${prefix%/}"
[[ -n "$prefix" ]] || die "refusing to use / as the prefix"
# Exec= in the desktop entry quotes the path; these characters would need escapes there.
case "$prefix" in
    *[\"\`\$\\%]* | *$'\n'*) die "the prefix must not contain \", \`, \$, \\, % or a newline: $prefix" ;;
esac

lib="lib/$app"
manifest="$prefix/$lib/MANIFEST"
desktop="share/applications/$app.desktop"
icon_png="share/icons/hicolor/256x256/apps/$app.png"
icon_svg="share/icons/hicolor/scalable/apps/$app.svg"
link="bin/$app"

# A path from a manifest: relative, inside the prefix.
checked() {
    case "$1" in
        "" | /* | .. | ../* | */.. | */../*) die "$manifest holds a path outside the prefix: '$1'" ;;
    esac
    printf '%s\n' "$1"
}

refresh_caches() {
    local apps="$prefix/share/applications" icons="$prefix/share/icons/hicolor"
    if [[ -f "$apps/mimeinfo.cache" ]] && command -v update-desktop-database >/dev/null; then
        update-desktop-database -q "$apps" || echo "warning: update-desktop-database $apps failed" >&2
    fi
    if [[ -f "$icons/icon-theme.cache" ]] && command -v gtk-update-icon-cache >/dev/null; then
        gtk-update-icon-cache -q -f -t "$icons" || echo "warning: gtk-update-icon-cache $icons failed" >&2
    fi
}

# Removes what the manifest lists: files, the bundle's tree, then the folders the install made, deepest
# first and only when empty. Prints the folders so the next install can carry them over.
remove_installed() {
    local kind path
    local -a dirs=()
    while IFS=' ' read -r kind path; do
        case "$kind" in
            "#"* | "") ;;
            file) path="$(checked "$path")"; rm -f -- "${prefix:?}/$path" ;;
            tree) ;;  # last: the manifest lives inside it
            dir) dirs+=("$(checked "$path")") ;;
            *) die "$manifest: unknown entry '$kind $path'" ;;
        esac
    done < "$manifest"
    rm -rf -- "${prefix:?}/$lib"
    # Reverse order puts a folder after everything inside it ("." , the prefix itself, comes last).
    local dir
    while IFS= read -r dir; do
        [[ -n "$dir" ]] || continue
        [[ "$dir" == . ]] && dir="$prefix" || dir="$prefix/$dir"
        rmdir -- "$dir" 2>/dev/null || true
    done < <(((${#dirs[@]})) && printf '%s\n' "${dirs[@]}" | LC_ALL=C sort -r)
}

if $uninstall; then
    if [[ ! -e "$prefix/$lib" ]]; then
        echo "$app is not installed in $prefix: nothing to remove"
        exit 0
    fi
    [[ -f "$manifest" ]] || die "$prefix/$lib has no MANIFEST: it was not installed by install.sh; remove it by hand"
    remove_installed
    refresh_caches
    echo "removed $app from $prefix"
    if [[ -n "${HOME:-}" && -d "$HOME/.local/share/$app" ]]; then
        echo "kept your settings in $HOME/.local/share/$app/ (delete that folder to forget them)"
    fi
    exit 0
fi

# ---- install ----------------------------------------------------------------------------------------------
for f in "$app" libonnxruntime.so models/sketch2face.onnx "$app.desktop" "icons/$app.png" "icons/$app.svg"; do
    [[ -e "$bundle/$f" ]] || die "$bundle is not a complete $app bundle: $f is missing"
done
[[ "$bundle" != "$prefix/$lib" ]] \
    || die "this is the installed copy in $prefix/$lib; run install.sh from the unpacked bundle to install"
if [[ -e "$prefix/$link" || -L "$prefix/$link" ]] && [[ "$(readlink "$prefix/$link" || true)" != "../$lib/$app" ]]; then
    die "$prefix/$link exists and is not sketch2face's link; move it away first"
fi

# Folders this install makes, plus those an earlier install made (they stay ours to remove).
declare -A made=()
if [[ -e "$prefix/$lib" ]]; then
    [[ -f "$manifest" ]] || die "$prefix/$lib exists but was not installed by install.sh (no MANIFEST); move it away first"
    while IFS=' ' read -r kind path; do
        [[ "$kind" == dir ]] && made["$(checked "$path")"]=1
    done < "$manifest"
fi
make_dir() {  # make_dir RELATIVE: creates prefix/RELATIVE and each missing parent, noting what it made
    local parts="" part
    local -a segments
    [[ -d "$prefix" ]] || { mkdir -p -- "$prefix"; made["."]=1; }
    IFS=/ read -ra segments <<< "$1"
    for part in "${segments[@]}"; do
        parts="${parts:+$parts/}$part"
        [[ -d "$prefix/$parts" ]] || { mkdir -- "$prefix/$parts"; made["$parts"]=1; }
    done
}
for d in lib bin "$(dirname "$desktop")" "$(dirname "$icon_png")" "$(dirname "$icon_svg")"; do make_dir "$d"; done

# The bundle, staged beside its place and moved in whole.
stage="$(mktemp -d "$prefix/lib/.$app.new.XXXXXX")"
old=""
cleanup() { rm -rf -- "$stage"; [[ -z "$old" ]] || rm -rf -- "$old"; }
trap cleanup EXIT
cp -a -- "$bundle/." "$stage/"
chmod 755 "$stage"
{
    echo "# $app install manifest: what install.sh made under $prefix (paths relative to it)"
    echo "tree $lib"
    for f in "$link" "$desktop" "$icon_png" "$icon_svg"; do echo "file $f"; done
    for d in "${!made[@]}"; do echo "dir $d"; done | sort
} > "$stage/MANIFEST"
if [[ -e "$prefix/$lib" ]]; then
    old="$(mktemp -d "$prefix/lib/.$app.old.XXXXXX")"
    mv -- "$prefix/$lib" "$old/"
fi
mv -- "$stage" "$prefix/$lib"

# put RELATIVE < CONTENT: writes prefix/RELATIVE through a temporary file beside it.
put() {
    local tmp
    tmp="$(mktemp "$prefix/$1.XXXXXX")"
    cat > "$tmp" || { rm -f -- "$tmp"; return 1; }
    chmod 644 "$tmp"
    mv -- "$tmp" "$prefix/$1"
}
# The bundle's entry runs `sketch2face` from PATH; the installed one runs the installed link.
with_installed_exec() {
    local line args
    while IFS= read -r line; do
        if [[ "$line" == Exec=* ]]; then
            args="${line#Exec=}"
            line="Exec=\"$prefix/$link\"${args#"$app"}"
        fi
        printf '%s\n' "$line"
    done
}
put "$icon_png" < "$bundle/icons/$app.png"
put "$icon_svg" < "$bundle/icons/$app.svg"
with_installed_exec < "$bundle/$app.desktop" | put "$desktop"
ln -sfn "../$lib/$app" "$prefix/$link.tmp"
mv -T -- "$prefix/$link.tmp" "$prefix/$link"

refresh_caches
echo "installed $app in $prefix:"
echo "  $prefix/$link -> $prefix/$lib/$app"
echo "  $prefix/$desktop and the icon, for your launcher and file manager"
case ":${PATH:-}:" in
    *":$prefix/bin:"*) ;;
    *) echo "note: $prefix/bin is not on your PATH; run $prefix/$link, or add the folder to PATH" ;;
esac
if [[ "$prefix" == "${HOME:-}/.local" ]]; then
    echo "remove it with: $prefix/$lib/install.sh --uninstall"
else
    echo "remove it with: $prefix/$lib/install.sh --uninstall --prefix '$prefix'"
fi
