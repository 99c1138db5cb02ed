#!/usr/bin/env bash
# The core in WebAssembly gives the command line's results bit for bit. Builds the core for
# wasm32-unknown-unknown as a cdylib exporting src/web.rs's C ABI, runs shipped scenarios
# in Node.js (one thread; and the default in three shards merged by the core, as the
# browser's workers would, with a time series), and compares every CSV file with `oversim
# run -j 1`, the report's findings the engine drew with `oversim run --report`'s
# report.html, and the progress the engine reported with the replications run; and an
# exploration in two shards against `oversim explore`. Prints the
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
CARGO_PROFILE_RELEASE_DEBUG=0 cargo rustc --locked --quiet --lib --release --no-default-features --features portable-math \
    --target wasm32-unknown-unknown --crate-type cdylib -- -C strip=symbols
wasm=target/wasm32-unknown-unknown/release/oversim.wasm
work=$(mktemp -d /tmp/oversim-web.XXXXXX)
trap 'rm -rf "$work"' EXIT
# same WHAT WEB CLI FILE...: each file is the command line's byte for byte, and the report's
# findings the engine drew (WEB/sections.html) lie byte for byte in CLI/report.html.
same() {
    local what=$1 web=$2 cli=$3 f
    shift 3
    for f in "$@"; do
        if ! cmp -s "$web/$f" "$cli/$f"; then
            echo "FAILED: $what: $f from WebAssembly differs from the command line's"
            diff "$web/$f" "$cli/$f" | head -6
            exit 1
        fi
    done
    if ! python3 -c 'import sys; p = open(sys.argv[1]).read(); sys.exit(not (len(p) > 1000 and p in open(sys.argv[2]).read()))' \
        "$web/sections.html" "$cli/report.html"; then
        echo "FAILED: $what: the report the engine drew in WebAssembly is not the command line's"
        exit 1
    fi
}
# runs DIR REPS SHARDS SERIES: the policy-replications a run or exploration in DIR made:
# REPS for each (point or set, policy), or, for a policy whose staffing rules were solved
# there, REPS for each evaluation its search made (staffing.csv) in every shard (each solves
# them on all replications), and the search's replications at the choice are not run again
# but replication 0 is when a time series is recorded (SERIES > 0).
runs() {
    python3 - "$1" "$2" "$3" "$4" <<'PY'
import csv, sys
d, reps, shards, series = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rows = csv.DictReader(open(f"{d}/staffing.csv"))
point = rows.fieldnames[: rows.fieldnames.index("policy")]
evals = {tuple(r[c] for c in point) + (r["policy"],): int(r["evaluations"]) for r in rows}
# Every (point, policy) the run made: explore.csv's rows, or summary.csv's policies.
if point and point[0] == "set":
    pairs = [tuple(r[c] for c in point) + (r["policy"],) for r in csv.DictReader(open(f"{d}/explore.csv"))]
else:
    pairs = sorted({(r["policy"],) for r in csv.DictReader(open(f"{d}/summary.csv"))})
print(sum(shards * reps * evals[k] + (series > 0) if k in evals else reps for k in pairs))
PY
}
# progress_is WHAT WEB N: the engine reported N replications done.
progress_is() {
    if [ "$(cat "$2/progress")" != "$3" ]; then
        echo "FAILED: $1: the engine reported $(cat "$2/progress") replications done, not $3"
        exit 1
    fi
}
for spec in "default 20 1 0" "default 20 3 24" "drifting-agent 10 1 12" "realistic-layers 5 1 0" "governance-b12 5 1 0"; do
    set -- $spec
    name=$1 reps=$2 shards=$3 series=$4
    rm -rf "$work/$name-web" "$work/$name-cli"
    web_ms=$(node tests/web/run.mjs "$wasm" "scenarios/$name.toml" "$work/$name-web" "$reps" 7 "$shards" "$series" | sed -n 's/^ran in \([0-9]*\) ms$/\1/p')
    files="replications.csv classes.csv kinds.csv summary.csv comparison.csv stages.csv"
    flags=()
    if [ "$series" != 0 ]; then flags=(--timeseries "${series}h"); files="$files timeseries.csv"; fi
    start=$(date +%s%N)
    "$bin" run "scenarios/$name.toml" -r "$reps" --seed 7 -j 1 -q -o "$work/$name-cli" "${flags[@]}"
    cli_ms=$(( ($(date +%s%N) - start) / 1000000 ))
    "$bin" report "$work/$name-cli" >/dev/null
    same "$name" "$work/$name-web" "$work/$name-cli" $files
    progress_is "$name" "$work/$name-web" "$(runs "$work/$name-cli" "$reps" "$shards" "$series")"
    echo "$name: $reps replications in $shards shard(s), identical CSVs and report; WebAssembly ${web_ms} ms, native ${cli_ms} ms (one thread)"
done
# An exploration of the default scenario in two shards merged by the core, against
# `oversim explore`: the same files and report.
node tests/web/run.mjs "$wasm" scenarios/default.toml "$work/explore-web" 3 7 2 0 2 >/dev/null
"$bin" explore scenarios/default.toml --points 2 -r 3 --seed 7 -j 1 -q --report -o "$work/explore-cli"
same exploration "$work/explore-web" "$work/explore-cli" design.csv explore.csv robustness.csv choice.csv pairwise.csv sensitivity.csv
sets=$(($(wc -l <"$work/explore-cli/design.csv") - 1))
progress_is exploration "$work/explore-web" "$(runs "$work/explore-cli" 3 2 0)"
echo "default exploration: $sets sets in 2 shards, identical files and report"
echo "core module: $(wc -c <"$wasm") bytes, $(gzip -9c "$wasm" | wc -c) gzipped"
echo "1 passed, 0 failed"
