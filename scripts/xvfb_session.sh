# Sourced by scripts/app_screenshot.sh and scripts/app_recovery.sh: a virtual X display on
# display number $1 and a fresh temporary folder ($tmp) for the app's data and runtime files.
# The app's process id goes in $app; on exit the app (signal $app_signal, default TERM), Xvfb and
# the folder go.
tmp=$(mktemp -d)
display=:$1
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >"$tmp/xvfb.log" 2>&1 &
xvfb=$!
app=
app_signal=${app_signal:-TERM}
cleanup() {
    [[ -n $app ]] && kill "-$app_signal" "$app" 2>/dev/null
    kill "$xvfb" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
export DISPLAY=$display XDG_DATA_HOME=$tmp/data XDG_RUNTIME_DIR=$tmp/run
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
sleep 1
