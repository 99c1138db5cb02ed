#!/usr/bin/env bash
# The oversim lab in a real browser: builds the site (scripts/build-web.sh), serves it on
# 127.0.0.1, and drives Debian's headless Chromium with playwright-core (npm) through
# tests/browser/lab.mjs: the default scenario's CSVs equal `oversim run`'s byte for byte, its
# report (sentences, table, charts) is `oversim report`'s, progress counts replications, a
# lever changes the result and its charts and its permalink reproduces it, Cancel stops a
# run, the levers and Run work by keyboard and every control is labelled, nothing is wider
# than a phone's screen, printing hides the controls, Explore gives `oversim explore`'s
# files and report (a design and a map), a bad scenario shows the
# command line's message, lesson mode loads a lesson, the single-file build gives the same
# files from file://, no console errors, and the screenshot is not blank.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${OVERSIM_BIN:-$root/target/release/oversim}
[ -x "$bin" ] || (cd "$root" && cargo build --release --locked --quiet)
browser=$(command -v chromium || true)
if [ -z "$browser" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    browser=$(command -v chromium)
fi
command -v node >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }
(cd "$root/tests/browser" && npm ci --no-audit --no-fund --silent)

work=$(mktemp -d /tmp/oversim-lab.XXXXXX)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
bash "$root/scripts/build-web.sh" "$work/site" >/dev/null
# As the page runs it: a time series of replication 0 every 24 h, and the report.
"$bin" run -r 20 --seed 7 --timeseries 24h --report -q -o "$work/cli"
# The page on one worker against the command line on one thread (in-process: the
# manifest's wall time), over 100 replications so start-up does not dominate.
"$bin" run -r 100 --seed 7 --timeseries 24h -j 1 -q -o "$work/one" --force
cp "$work/one/summary.csv" "$work/cli/summary-100.csv"
python3 -c "import json,sys; print(round(1000*json.load(open(sys.argv[1]))['wall_seconds']))" "$work/one/manifest.json" >"$work/cli/native-ms"
# An exploration, as the page's Explore runs it.
"$bin" explore --points 2 -r 3 --seed 7 -q --report -o "$work/cli/explore"
"$bin" explore --map "policy.*.review.detect,workload.class.high-impact.harm" --grid 3 -r 3 --seed 7 -q --report -o "$work/cli/map"
# A scenario with a typo, as the page names an edited scenario: scenario.toml.
sed 's/^reviewers = 1 /reviewrs = 1 /' "$root/scenarios/default.toml" >"$work/cli/bad.toml"
cp "$work/cli/bad.toml" "$work/scenario.toml"
(cd "$work" && "$bin" run scenario.toml -q 2>"$work/cli/bad.txt" && exit 1 || true)
grep -q "reviewrs" "$work/cli/bad.txt"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work/site" >/dev/null 2>&1 &
server=$!
for _ in $(seq 50); do python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/')" 2>/dev/null && break; sleep 0.1; done
node "$root/tests/browser/lab.mjs" "http://127.0.0.1:$port/" "$browser" "$work/cli" "$work/shot.png" "$work/site/oversim-lab.html"
# A page of text, tables and controls: less ink than a page of charts.
python3 "$root/tests/browser/not_blank.py" "$work/shot.png" 0.02
cp "$work/shot.png" "${LAB_SCREENSHOT:-/dev/null}" 2>/dev/null || true
echo "1 passed, 0 failed"
