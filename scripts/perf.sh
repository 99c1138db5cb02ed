#!/usr/bin/env bash
# The performance suite: oversim against the floor (Kiefer–Wolfowitz recursion), SimPy 4 and
# nexosim 1.0 on the reference model, parallel efficiency, and peak memory; prints one table.
# Ratios are measured in one run, on the same machine, one after the other.
#   scripts/perf.sh            # quick (a few seconds of each)
#   scripts/perf.sh --full     # also the Criterion benchmarks (several minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/oversim

python3 -c "import simpy" 2>/dev/null || python3 -m pip install --quiet simpy >/dev/null 2>&1 || true

echo "== engine vs floor (ns per simulated action, best of 7; from benches/engine.rs)"
cargo bench --quiet --bench engine -- --warm-up-time 1 --measurement-time 1 engine/floor/c1 2>&1 \
    | sed -n '/reference model/,/^$/p'

if python3 -c "import simpy" 2>/dev/null; then
    echo "== SimPy 4 on the same model (ns per action, best of 3, 200 simulated hours)"
    for c in 1 4; do
        simpy_ns=$(python3 benches/peers/simpy_reference.py "$c" 200 3)
        echo "c = $c: SimPy $simpy_ns ns/action"
    done
else
    echo "== SimPy: not installed (pip install simpy), skipped"
fi

echo "== nexosim 1.0 on the same model, one thread (ns per action, best of 3, 500 simulated hours)"
if (cd benches/peers/nexosim && cargo build --release --quiet); then
    for c in 1 4; do
        echo "c = $c: nexosim $(benches/peers/nexosim/target/release/oversim-peer-nexosim "$c" 500 3 2>/dev/null) ns/action"
    done
else
    echo "nexosim: the peer did not build (it needs crates.io), skipped"
fi

echo "== parallel efficiency: default scenario, 200 replications"
TIMEFORMAT=%R
t1=$( { time "$bin" run -r 200 -j 1 -q -o /tmp/oversim-perf-1 --force; } 2>&1 | tail -1)
n=$(nproc)
tn=$( { time "$bin" run -r 200 -j "$n" -q -o /tmp/oversim-perf-n --force; } 2>&1 | tail -1)
python3 -c "t1=$t1; tn=$tn; n=$n; print(f'1 thread {t1:.2f} s, {n} threads {tn:.2f} s: speed-up {t1/tn:.2f}, efficiency {t1/tn/n*100:.0f}%')"

echo "== peak memory (tests/memory.rs)"
cargo test --release --quiet --test memory -- --nocapture 2>&1 | grep "peak RSS" || true

if [ "${1:-}" = "--full" ]; then
    cargo bench --bench engine
fi
