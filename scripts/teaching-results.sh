#!/usr/bin/env bash
# Regenerates results/examples/<scenario>/ (CSV files, timeseries.csv, report.html) for every shipped
# scenario, and the charts docs/teaching.md shows (docs/img/*.svg), with the current code.
#   scripts/teaching-results.sh            # writes results/examples/ and docs/img/
#   OUT=/tmp/x scripts/teaching-results.sh # writes elsewhere (tests compare with results/examples/)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"   # relative paths, so the committed manifests name no machine's folders
out=${OUT:-results/examples}
bin=${OVERSIM_BIN:-target/release/oversim}
# Always rebuild (cargo does nothing when the binary is current), so results come from
# the code as it is, never from a stale binary.
[ -n "${OVERSIM_BIN:-}" ] || cargo build --release --locked --quiet
scenarios=(default drifting-agent rubber-stamping fatigue-and-breaks automation-bias
           layered-defence layered-defence-correlated governance-b12 expert-review-wins
           catastrophic-tail realistic-layers blame-or-learning people-who-change)
for s in "${scenarios[@]}"; do
    "$bin" run "scenarios/$s.toml" --timeseries 6h --report --force --quiet -o "$out/$s"
done
[ -n "${OUT:-}" ] && exit 0
# The charts of docs/teaching.md: one chart (by its title) from each report.
mkdir -p "$root/docs/img"
python3 - "$root" <<'PY'
import re, sys
root = sys.argv[1]
pick = {
    "default": ["Oversight effort and harm", "Defect probability"],
    "drifting-agent": ["Oversight effort and harm", "Defect probability"],
    "rubber-stamping": ["Throughput and escapes", "Review queue length"],
    "fatigue-and-breaks": ["Throughput and escapes", "95th percentile review wait"],
    "automation-bias": ["Oversight effort and harm"],
    "layered-defence": ["Throughput and escapes"],
    "layered-defence-correlated": ["Throughput and escapes"],
}
for name, titles in pick.items():
    html = open(f"{root}/results/examples/{name}/report.html").read()
    svgs = re.findall(r"<svg.*?</svg>", html, re.S)
    for k, title in enumerate(titles):
        svg = next(s for s in svgs if f">\n{title}\n</text>" in s)
        open(f"{root}/docs/img/{name}-{k + 1}.svg", "w").write(svg + "\n")
PY
echo "wrote $out and docs/img"
