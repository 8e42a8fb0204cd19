# Sourced by scripts/app_screenshot.sh and scripts/app_recovery.sh: a virtual X display and a
# fresh temporary folder ($tmp) for the app's data and runtime files. The app's process id goes
# in $app; on exit the app (signal $app_signal, default TERM), Xvfb and the folder go.
# Xvfb picks the first free display itself and names it once it accepts connections
# (-displayfd): a fixed display number collides with a server left running (seen here), and a
# fixed sleep only guesses when the server is ready.
tmp=$(mktemp -d)
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$tmp/display" >"$tmp/xvfb.log" 2>&1 &
xvfb=$!
app=
app_signal=${app_signal:-TERM}
cleanup() {
    [[ -n $app ]] && kill "-$app_signal" "$app" 2>/dev/null
    kill "$xvfb" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
for _ in $(seq 300); do
    [[ -s $tmp/display ]] && break
    kill -0 "$xvfb" 2>/dev/null || { echo "error: Xvfb stopped before it was ready; its log:" >&2; cat "$tmp/xvfb.log" >&2; exit 1; }
    sleep 0.1
done
[[ -s $tmp/display ]] || { echo "error: Xvfb was not ready after 30 s; its log:" >&2; cat "$tmp/xvfb.log" >&2; exit 1; }
export DISPLAY=:$(tr -d '[:space:]' <"$tmp/display") XDG_DATA_HOME=$tmp/data XDG_RUNTIME_DIR=$tmp/run
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
