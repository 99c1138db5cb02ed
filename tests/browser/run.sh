#!/usr/bin/env bash
# Browser test of the HTML reports (a run's, an exploration's and a decision map's): Debian's
# headless Chromium opens each report.html from a file, renders it without console errors, and its screenshot shows the charts (not a blank page).
# Skips (exit 0, with a message) only when Chromium cannot be installed.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${OVERSIM_BIN:-$root/target/release/oversim}
[ -x "$bin" ] || (cd "$root" && cargo build --release --locked --quiet)

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
    if { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/tmp/oversim-chromium-apt.log 2>&1; then
        browser=$(command -v chromium)
    else
        echo "SKIPPED: browser test: cannot install Debian's chromium (see /tmp/oversim-chromium-apt.log)"
        exit 0
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
    python3 - "$dir/shot.png" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, w, h, ct = 8, b"", 0, 0, 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ct = struct.unpack(">IIBB", body[:10])
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
bpp = {2: 3, 6: 4}[ct]
raw = zlib.decompress(idat)
stride = w * bpp
prev = bytearray(stride)
colours, nonwhite, i = set(), 0, 0
for y in range(h):
    f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
    i += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b, c = prev[x], prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    prev = line
    if y % 4 == 0:
        for x in range(0, w, 4):
            px = bytes(line[x * bpp:x * bpp + 3])
            colours.add(px)
            nonwhite += px != b"\xff\xff\xff"
share = nonwhite / ((h // 4 + 1) * (w // 4 + 1))
print(f"screenshot {w}x{h}: {len(colours)} colours, {share:.0%} non-white")
assert len(colours) >= 8, "the screenshot looks blank"
assert share > 0.05, "the screenshot is almost all white"
# The palette's blue and orange (first two policies) appear: the charts were drawn.
assert any(abs(p[0] - 0) < 40 and abs(p[1] - 114) < 40 and abs(p[2] - 178) < 40 for p in colours), "no policy colour"
PY
    echo "$dir: $svgs charts, no console errors"
}

"$bin" run -r 8 --timeseries 1d --report -q -o "$work/run"
check "$work/run" 9 3000
# An exploration's report: probability of best, tornado; and a decision map's heat map.
"$bin" explore --points 4 -r 3 --set run.horizon=2d --report -q -o "$work/explore"
check "$work/explore" 2 1800
"$bin" explore --map "policy.*.review.detect,costs.harm_unit" --grid 3 -r 3 --set run.horizon=2d --report -q -o "$work/map"
check "$work/map" 1 900
echo "browser test: report rendered by $("$browser" --version 2>/dev/null | head -1) for a run, an exploration and a decision map"
echo "1 passed, 0 failed"
