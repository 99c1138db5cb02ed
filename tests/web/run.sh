#!/usr/bin/env bash
# The core in WebAssembly gives the command line's results bit for bit. Builds the core for
# wasm32-unknown-unknown as a cdylib exporting src/web.rs's C ABI, runs shipped scenarios
# in Node.js (one thread; and the default in three shards merged by the core, as the
# browser's workers would), and compares every CSV file with `oversim run -j 1`. Prints the
# times and the module's size. Node.js is installed from Debian's packages if missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
bin=${OVERSIM_BIN:-$root/target/release/oversim}
[ -x "$bin" ] || cargo build --release --locked --quiet
if ! command -v node >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs >/dev/null
fi
# Release, without debug information (the native release keeps it for profiling).
CARGO_PROFILE_RELEASE_DEBUG=0 cargo rustc --locked --quiet --lib --release --no-default-features \
    --target wasm32-unknown-unknown --crate-type cdylib -- -C strip=symbols
wasm=target/wasm32-unknown-unknown/release/oversim.wasm
work=$(mktemp -d /tmp/oversim-web.XXXXXX)
trap 'rm -rf "$work"' EXIT
for spec in "default 20 1" "default 20 3" "drifting-agent 10 1" "realistic-layers 5 1" "governance-b12 5 1"; do
    set -- $spec
    name=$1 reps=$2 shards=$3
    rm -rf "$work/$name-web" "$work/$name-cli"
    web_ms=$(node tests/web/run.mjs "$wasm" "scenarios/$name.toml" "$work/$name-web" "$reps" 7 "$shards" | sed -n 's/^ran in \([0-9]*\) ms$/\1/p')
    start=$(date +%s%N)
    "$bin" run "scenarios/$name.toml" -r "$reps" --seed 7 -j 1 -q -o "$work/$name-cli"
    cli_ms=$(( ($(date +%s%N) - start) / 1000000 ))
    for f in replications.csv classes.csv kinds.csv summary.csv comparison.csv stages.csv; do
        if ! cmp -s "$work/$name-web/$f" "$work/$name-cli/$f"; then
            echo "FAILED: $name: $f from WebAssembly differs from the command line's"
            diff "$work/$name-web/$f" "$work/$name-cli/$f" | head -6
            exit 1
        fi
    done
    echo "$name: $reps replications in $shards shard(s), identical CSVs; WebAssembly ${web_ms} ms, native ${cli_ms} ms (one thread)"
done
echo "core module: $(wc -c <"$wasm") bytes, $(gzip -9c "$wasm" | wc -c) gzipped"
echo "1 passed, 0 failed"
