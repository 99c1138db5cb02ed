#!/usr/bin/env bash
# The core is safe to embed: built as a native shared library without the command line
# (`--no-default-features`, as a Python extension or a server would take it), it defines no
# C math symbol, so it cannot replace the C library's `exp`, `log`, `pow`… for the process
# that loads it (src/math.rs). As a control, the command line's binary, built with
# `portable-math`, does define them: the check sees a symbol when it is there.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
bin=${OVERSIM_BIN:-$root/target/release/oversim}
[ -x "$bin" ] || cargo build --release --locked --quiet
command -v nm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq binutils >/dev/null; }
names='exp|exp2|expm1|log|log2|log10|log1p|pow|sin|cos|tan|asin|acos|atan|atan2|sinh|cosh|tanh|cbrt|hypot'
# The symbols FILE defines (text section), one name per line.
defined() { nm --defined-only "$@" 2>/dev/null | awk '$2 == "T" || $2 == "t" {print $3}' | grep -xE "$names" | sort -u || true; }

in_bin=$(defined "$bin")
if [ "$(echo "$in_bin" | grep -c .)" -lt 10 ]; then
    echo "FAILED: the control: the command line's binary should define the C math symbols; found: ${in_bin:-none}"
    exit 1
fi
CARGO_PROFILE_RELEASE_DEBUG=0 cargo rustc --locked --quiet --lib --release --no-default-features \
    --crate-type cdylib
lib=target/release/liboversim.so
in_lib=$(defined -D "$lib")
if [ -n "$in_lib" ]; then
    echo "FAILED: the embeddable core ($lib) defines C math symbols: $(echo $in_lib)"
    exit 1
fi
echo "ok: the binary defines $(echo "$in_bin" | grep -c .) C math symbols; the embeddable core ($(du -k "$lib" | cut -f1) KB) none"
