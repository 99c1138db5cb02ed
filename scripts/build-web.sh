#!/usr/bin/env bash
# Builds the oversim lab, a static site, into OUTDIR: index.html, app.js, core.js,
# worker.js, scenarios.js (every shipped scenario) and oversim.wasm (the core for
# wasm32-unknown-unknown, src/web.rs's C ABI). Any static file server can host it.
#   scripts/build-web.sh OUTDIR
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: scripts/build-web.sh OUTDIR}
cd "$root"
if command -v rustup >/dev/null 2>&1; then rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || true; fi
# Release, without debug information (the native release keeps it for profiling).
CARGO_PROFILE_RELEASE_DEBUG=0 cargo rustc --locked --quiet --lib --release --no-default-features \
    --target wasm32-unknown-unknown --crate-type cdylib -- -C strip=symbols
mkdir -p "$out"
cp web/index.html web/app.js web/core.js web/worker.js "$out/"
cp target/wasm32-unknown-unknown/release/oversim.wasm "$out/"
python3 - "$out/scenarios.js" scenarios/*.toml <<'PY'
import json, os, sys
out, files = sys.argv[1], sys.argv[2:]
names = {os.path.basename(f)[:-5]: open(f).read() for f in sorted(files)}
# The default first, as the command line runs it without a file.
ordered = {"default": names.pop("default"), **names}
with open(out, "w") as f:
    f.write("// The shipped scenarios (scenarios/*.toml), written by scripts/build-web.sh.\n")
    f.write("window.OVERSIM_SCENARIOS = " + json.dumps(ordered, indent=1) + ";\n")
PY
echo "built the oversim lab in $out ($(du -sh "$out" | cut -f1); oversim.wasm $(gzip -9c "$out/oversim.wasm" | wc -c) bytes gzipped)"
