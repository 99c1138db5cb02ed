//! Peak memory is flat in the horizon (a stable scenario, 10× longer, stays under 1.2× the
//! peak resident set) and grows with the number of replications only by their result rows
//! (a few KB per replication and policy, never per event). Linux only: it reads and resets VmHWM in /proc/self.
//! One test in this binary, so nothing else runs alongside it.

// Tests and benchmarks print with the standard macros; the CLI prints through say!/tell!.
#![allow(clippy::disallowed_macros)]

use oversim::engine::simulate;
use oversim::montecarlo;
use oversim::scenario;

fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn peak_kb() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn peak_memory_is_flat_in_horizon_and_replications() {
    // A test that cannot run fails: this one needs Linux's /proc/self/clear_refs.
    assert!(
        reset_peak() && peak_kb() > 0,
        "the peak-memory test needs Linux /proc/self/clear_refs and VmHWM"
    );
    let sc = |horizon: &str, reps: u32| {
        // The two agent policies whose peak memory this test has always measured, staffed
        // as their rules choose (`simulate` runs a scenario as loaded: a rule's placeholder
        // is 1).
        let mut set = scenario::default_staffing();
        set.extend([
            scenario::Override::set("run.horizon", &format!("\"{horizon}\"")),
            scenario::Override::set("run.replications", &reps.to_string()),
            scenario::Override::set("run.policies", "[\"per-action\", \"tiered\"]"),
        ]);
        let sc = scenario::load("default", scenario::DEFAULT_SCENARIO, &set)
            .unwrap()
            .scenario;
        assert_eq!(sc.run.replications, reps as u64);
        sc
    };
    let short = sc("30d", 1);
    let long = sc("300d", 1);
    // Warm the allocator, then measure each from a reset high-water mark.
    simulate(&short, 0, 0);
    let measure = |f: &dyn Fn()| {
        reset_peak();
        f();
        peak_kb()
    };
    let p_short = measure(&|| {
        for p in 0..2 {
            simulate(&short, p, 1);
        }
    });
    let p_long = measure(&|| {
        for p in 0..2 {
            simulate(&long, p, 1);
        }
    });
    eprintln!("peak RSS: horizon 30 d {p_short} kB, 300 d {p_long} kB");
    assert!(
        (p_long as f64) < 1.2 * p_short as f64,
        "horizon ×10: {p_long} kB vs {p_short} kB"
    );

    let few = sc("2d", 20);
    let many = sc("2d", 200);
    let p_few = measure(&|| {
        montecarlo::run(&few, Some(1), &|| {}).unwrap();
    });
    let p_many = measure(&|| {
        montecarlo::run(&many, Some(1), &|| {}).unwrap();
    });
    eprintln!("peak RSS: 20 replications {p_few} kB, 200 replications {p_many} kB");
    // Results are one row per replication and policy (a few KB with their stage and class
    // rows), never per event: 180 more replications of 2 policies may add at most 8 KB
    // each. Anything kept per event would add over 100 KB each (2 days × 40 actions an
    // hour × at least 64 bytes).
    let per_result = (p_many as f64 - p_few as f64) / (180.0 * 2.0);
    assert!(
        per_result < 8.0,
        "replications ×10: {p_many} kB vs {p_few} kB, {per_result:.1} kB per added replication and policy"
    );
}
