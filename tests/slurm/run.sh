#!/usr/bin/env bash
# End-to-end test on a real single-node Slurm cluster: start munge, slurmctld and slurmd,
# submit scripts/slurm/oversim-array.sbatch as 4-task arrays (a run, then an exploration),
# wait, merge the shards, and compare the result byte for byte with a local run. Cleans up its daemons on exit.
# A test that cannot run fails: if the Slurm packages cannot be installed, it says so and exits 1.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${OVERSIM_BIN:-$root/target/release/oversim}
started=$(date +%s)

if ! command -v sbatch >/dev/null || ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurmctld slurmd slurm-client munge; } >/tmp/oversim-slurm-apt.log 2>&1; then
        echo "FAILED: Slurm test: cannot install slurmctld, slurmd, slurm-client and munge (see /tmp/oversim-slurm-apt.log)"
        exit 1
    fi
fi
[ -x "$bin" ] || (cd "$root" && cargo build --release --locked --quiet)

work=$(mktemp -d /tmp/oversim-slurm.XXXXXX)
chmod 755 "$work"
conf=$work/slurm.conf
export SLURM_CONF=$conf
host=$(hostname -s)
started_munge=0

cleanup() {
    set +e
    if [ -n "${job:-}" ]; then scancel "$job" 2>/dev/null; fi
    for pid in "$work/slurmd.pid" "$work/slurmctld.pid"; do
        [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null
    done
    sleep 1
    pkill -f "slurmd -f $conf" 2>/dev/null
    pkill -f "slurmctld -f $conf" 2>/dev/null
    if [ "$started_munge" = 1 ]; then pkill -u munge munged 2>/dev/null; fi
    rm -rf "$work"
}
trap cleanup EXIT

# munge: a key, its run directory, the daemon as user munge.
if ! pgrep -x munged >/dev/null; then
    if [ ! -s /etc/munge/munge.key ]; then
        mkdir -p /etc/munge
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
    chown -R munge:munge /etc/munge && chmod 700 /etc/munge && chmod 400 /etc/munge/munge.key
    mkdir -p /run/munge /var/lib/munge /var/log/munge
    chown munge:munge /run/munge /var/lib/munge /var/log/munge
    runuser -u munge -- /usr/sbin/munged
    started_munge=1
fi

cpus=$(nproc)
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
mkdir -p "$work/state" "$work/spool"
cat > "$conf" <<CONF
ClusterName=oversimci
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=ci Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -f "$conf"
slurmd -f "$conf"
for _ in $(seq 60); do
    state=$(sinfo -h -N -o %t 2>/dev/null | head -1)
    [ "$state" = idle ] && break
    sleep 1
done
if [ "${state:-}" != idle ]; then
    echo "FAILED: Slurm node did not become idle (state '${state:-none}')"
    tail -20 "$work/slurmctld.log" "$work/slurmd.log" 2>/dev/null
    exit 1
fi

cp "$root/scenarios/drifting-agent.toml" "$work/scenario.toml"

# Submits a 4-task array of `oversim $1` with the flags after it, writing $work/$2/shard-K,
# and waits for it.
array() {
    local command=$1 out=$2
    shift 2
    job=$(sbatch --parsable --array=0-3 --chdir="$work" --export=ALL,OVERSIM="$bin",OVERSIM_COMMAND="$command" \
        "$root/scripts/slurm/oversim-array.sbatch" "$work/scenario.toml" "$work/$out" "$@")
    echo "submitted $command array job $job"
    for _ in $(seq 600); do
        [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break
        sleep 1
    done
    if [ -n "$(squeue -h -j "$job" 2>/dev/null)" ]; then
        echo "FAILED: array job $job did not finish in 10 minutes"
        exit 1
    fi
    for k in 0 1 2 3; do
        if [ ! -f "$work/$out/shard-$k/shard.json" ]; then
            echo "FAILED: $command task $k wrote no shard"
            cat "$work"/oversim-*_"$k".out 2>/dev/null
            exit 1
        fi
    done
    job=
}

# Compares files of two folders byte for byte.
same() {
    local a=$1 b=$2
    shift 2
    for f in "$@"; do
        if ! cmp -s "$a/$f" "$b/$f"; then
            echo "FAILED: merged $f differs from the one-machine result"
            diff "$a/$f" "$b/$f" | head
            exit 1
        fi
    done
}

flags=(-r 12 --set run.horizon=5d --sweep "policy.process.spc.h=6,9")
array run out "${flags[@]}"
"$bin" merge "$work"/out/shard-* -o "$work/merged" --quiet
"$bin" run "$work/scenario.toml" "${flags[@]}" -o "$work/local" --quiet
same "$work/merged" "$work/local" replications.csv classes.csv summary.csv comparison.csv stages.csv

# An exploration shards and merges the same way.
eflags=(-r 8 --points 4 --set run.horizon=3d)
array explore explore-out "${eflags[@]}"
"$bin" merge "$work"/explore-out/shard-* -o "$work/explore-merged" --quiet
"$bin" explore "$work/scenario.toml" "${eflags[@]}" -o "$work/explore-local" --quiet
same "$work/explore-merged" "$work/explore-local" design.csv explore.csv robustness.csv pairwise.csv sensitivity.csv

echo "Slurm test: 4-task arrays (a run and an exploration) on a real Slurm, merged output identical to a local run ($(( $(date +%s) - started )) s)"
echo "1 passed, 0 failed"
