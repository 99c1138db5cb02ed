#!/usr/bin/env bash
# Browser test of the HTML reports (a run's, an exploration's and a decision map's): Debian's
# headless Chromium opens each report.html from a file, renders it without console errors, and its screenshot shows the charts (not a blank page).
# A test that cannot run fails: if Chromium cannot be installed, it says so and exits 1.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${OVERSIM_BIN:-$root/target/release/oversim}
[ -x "$bin" ] || (cd "$root" && cargo build --release --locked --quiet)

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
    if { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/tmp/oversim-chromium-apt.log 2>&1; then
        browser=$(command -v chromium)
    else
        echo "FAILED: browser test: cannot install Debian's chromium (see /tmp/oversim-chromium-apt.log)"
        exit 1
    fi
fi

work=$(mktemp -d /tmp/oversim-browser.XXXXXX)
trap 'rm -rf "$work"' EXIT
# Renders DIR/report.html: no console errors, at least MIN charts, a screenshot (HEIGHT
# pixels tall, about the page's length) that is not blank and shows the palette's first colour.
check() {
    local dir=$1 min=$2 height=$3
    local url="file://$dir/report.html"
    flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
           --disable-component-update --disable-sync --user-data-dir="$work/profile" --hide-scrollbars)
    # Console messages go to the log with --enable-logging; any console error fails the test.
    "$browser" "${flags[@]}" --enable-logging=stderr --v=0 --window-size=1280,$height \
        --screenshot="$dir/shot.png" "$url" 2>"$dir/console.log" >/dev/null || true
    if grep -E "CONSOLE.*(error|Error)|Uncaught" "$dir/console.log"; then
        echo "FAILED: console errors while rendering the report"
        exit 1
    fi
    "$browser" "${flags[@]}" --dump-dom "$url" 2>/dev/null >"$dir/dom.html"
    svgs=$(grep -o "<svg" "$dir/dom.html" | wc -l)
    if [ "$svgs" -lt "$min" ]; then
        echo "FAILED: the rendered page has $svgs charts, expected at least $min ($dir)"
        exit 1
    fi
    # The screenshot has the charts: decode the PNG and count distinct colours in it.
    python3 "$root/tests/browser/not_blank.py" "$dir/shot.png"
    echo "$dir: $svgs charts, no console errors"
}

"$bin" run -r 8 --timeseries 1d --report -q -o "$work/run"
check "$work/run" 9 3000
# An exploration's report: probability of best, tornado; and a decision map's heat map.
"$bin" explore --points 4 -r 3 --set run.horizon=2d --report -q -o "$work/explore"
# Tall enough for the inputs table and the tornado (32 inputs in the default scenario: the
# first policy's colour starts about 3,450 pixels down).
check "$work/explore" 2 4000
"$bin" explore --map "policy.*.review.detect,costs.harm_unit" --grid 3 -r 3 --set run.horizon=2d --report -q -o "$work/map"
# The map's page is about 1,620 pixels long (two inputs and the heat map).
check "$work/map" 1 1700
echo "browser test: report rendered by $("$browser" --version 2>/dev/null | head -1) for a run, an exploration and a decision map"
echo "1 passed, 0 failed"
