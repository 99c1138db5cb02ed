#!/usr/bin/env bash
# Regenerates results/explore/<name>/: the explorations docs/explore.md quotes, with the
# current code. tests/integration/explore.rs reruns them and compares every CSV file.
#   scripts/explore-results.sh             # writes results/explore/
#   OUT=/tmp/x scripts/explore-results.sh  # writes elsewhere
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${OUT:-results/explore}
bin=${OVERSIM_BIN:-target/release/oversim}
[ -n "${OVERSIM_BIN:-}" ] || cargo build --release --locked --quiet
# The command lines are the test's: keep them in step (tests/integration/explore.rs, RUNS).
"$bin" explore scenarios/default.toml --points 16 -r 5 --report --force --quiet -o "$out/default"
"$bin" explore scenarios/default.toml --map "policy.*.review.detect,workload.class.high-impact.harm" --grid 7 -r 20 --report --force --quiet -o "$out/default-map"
"$bin" explore scenarios/drifting-agent.toml --policies "process,per-action-spc" --map "policy.*.review.detect,policy.*.checks.detect" --grid 7 -r 10 --report --force --quiet -o "$out/drifting-agent-map"
"$bin" explore scenarios/drifting-agent.toml --policies "process,per-action-spc,hybrid" --map "policy.*.review.detect,policy.*.checks.detect" --grid 7 -r 10 --report --force --quiet -o "$out/drifting-agent-hybrid-map"
