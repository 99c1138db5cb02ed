#!/usr/bin/env bash
# The lab's speed against the command line's, measured side by side so that a shared
# machine's noise falls on both: K times (default 7), the page in headless Chromium on one
# Web Worker, run on load (a new worker: its first tenths of a second run in the
# browser's baseline compiler) and run again (the worker kept, its code compiled), then
# `oversim run -j 1`, each R replications (default 100) of the default scenario; prints
# each ratio and the medians. The page's time is from Run to the report drawn (merged,
# charts drawn); the command line's is the manifest's wall time of the run. Needs what tests/browser/lab.sh
# installs (Chromium, Node.js, tests/browser/node_modules).
#   scripts/lab-speed.sh [K [R]]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
k=${1:-7} reps=${2:-100}
bin=$root/target/release/oversim
(cd "$root" && cargo build --release --locked --quiet)
work=$(mktemp -d /tmp/oversim-speed.XXXXXX)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
bash "$root/scripts/build-web.sh" "$work/site" >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work/site" >/dev/null 2>&1 &
server=$!
for _ in $(seq 50); do python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/')" 2>/dev/null && break; sleep 0.1; done
cold=() warm=()
for i in $(seq "$k"); do
    page=$(cd "$root/tests/browser" && node -e '
        const { chromium } = require("playwright-core");
        (async () => {
            const b = await chromium.launch({ executablePath: process.argv[1], args: ["--no-sandbox"] });
            const p = await b.newPage();
            await p.goto(process.argv[2]);
            const done = () => p.waitForFunction(() => document.body.dataset.state === "done", null, { timeout: 600000 });
            await done();
            const first = await p.evaluate(() => document.body.dataset.ms);
            await p.click("#run");
            await done();
            console.log(first, await p.evaluate(() => document.body.dataset.ms));
            await b.close();
        })();' "$(command -v chromium)" "http://127.0.0.1:$port/#scenario=default&replications=$reps&seed=7&timeseries=0&workers=1&run")
    "$bin" run -r "$reps" --seed 7 -j 1 -q -o "$work/cli" --force
    native=$(python3 -c "import json,sys; print(round(1000*json.load(open(sys.argv[1]))['wall_seconds']))" "$work/cli/manifest.json")
    set -- $page
    c=$(python3 -c "print(f'{$1 / $native:.2f}')") w=$(python3 -c "print(f'{$2 / $native:.2f}')")
    cold+=("$c") warm+=("$w")
    echo "$i: page $1 ms on a new worker (${c}x), $2 ms on the same worker again (${w}x); command line $native ms on one thread"
done
median() { python3 -c "import statistics,sys; r=sorted(map(float, sys.argv[2:])); print(f'{sys.argv[1]}: median {statistics.median(r):.2f}x over {len(r)} (range {r[0]:.2f}-{r[-1]:.2f})')" "$@"; }
median "new worker" "${cold[@]}"
median "same worker again" "${warm[@]}"
