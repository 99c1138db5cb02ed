//! Peak memory is flat in the horizon (a stable scenario, 10× longer, stays under 1.2× the
//! peak resident set) and grows with the number of replications only by their result rows
//! (a few KB per replication and policy, never per event); an exploration's does not grow
//! with its replications at all (each set is folded as it finishes) and grows with its sets
//! within a stated budget. Linux only: it reads and resets VmHWM in /proc/self. The tests
//! take one lock, so that nothing runs alongside a measurement.

// Tests and benchmarks print with the standard macros; the CLI prints through say!/tell!.
#![allow(clippy::disallowed_macros)]

use std::sync::Mutex;

use oversim::engine::simulate;
use oversim::experiment::{Execution, Keep};
use oversim::explore::design::DesignKind;
use oversim::explore::{self, Spec};
use oversim::montecarlo::{self, Workers};
use oversim::report::manifest::RunContext;
use oversim::scenario;

/// Held by each test while it measures: the high-water mark is the process's.
static ALONE: Mutex<()> = Mutex::new(());

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
    let _alone = ALONE.lock().unwrap_or_else(|e| e.into_inner());
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

/// Two policies and two uncertain inputs (the integration tests' review-or-not world, a day
/// long so that many sets run quickly).
const TWO_INPUTS: &str = r#"name = "review-or-not"
[run]
replications = 5
horizon = "1d"
seed = 4
[workload]
rate = "20/h"
[[workload.class]]
name = "a"
share = 1.0
defect_prob = 0.1
harm = 1.0
[costs]
reviewer_hour = 50.0
harm_unit = 10.0
delay_hour = 0.0
[[policy]]
name = "none"
[[policy]]
name = "review"
[[policy.stage]]
kind = "human_review"
name = "review"
reviewers = 2
service = { dist = "constant", value = "1m" }
detect = 0.5
[uncertain]
"costs.harm_unit" = { dist = "uniform", low = 0.0, high = 200.0 }
"policy.review.review.false_reject" = { dist = "uniform", low = 0.0, high = 0.0001 }
"#;

/// Runs and concludes a Sobol exploration of [`TWO_INPUTS`] with `points` base points and
/// `replications` per set, as `oversim explore` does (files made, not written); its sets.
fn explore_two_inputs(pool: &montecarlo::Pool, points: usize, replications: u64) -> usize {
    let spec = Spec {
        design: DesignKind::Sobol,
        points,
        metric: "net_value".into(),
        bootstrap: 200,
        map: None,
    };
    let set = [scenario::Override::set(
        "run.replications",
        &replications.to_string(),
    )];
    let ex = explore::plan("two-inputs.toml", TWO_INPUTS, &set, &spec).unwrap();
    let exec = Execution {
        plan: &ex.plan,
        baseline: 0,
        targets: &[],
        max_replications: replications,
        shard: None,
        series: None,
        kept: None,
        keep: Keep::Metrics,
    };
    let ctx = RunContext::default();
    let ran = oversim::api::explore::execute(
        &ex,
        &exec,
        0.0,
        Workers::new(pool),
        &|| ctx.clone(),
        &|_| {},
        None,
    )
    .unwrap();
    let folded = ran.folded.expect("a whole exploration that finished is folded");
    let sets = ex.plan.points.len();
    let out = oversim::api::explore::conclude(ex, &ran.run, &folded, ran.manifest);
    assert!(out.files.sensitivity.is_some() && !out.files.explore.is_empty());
    sets
}

/// Bytes of one replication's metric row as a run holds it (`MetricRow`: one `f64` per metric).
fn row_bytes() -> f64 {
    (oversim::metrics::M::ALL.len() * 8) as f64
}

#[test]
fn an_explorations_memory_does_not_grow_with_its_replications() {
    let _alone = ALONE.lock().unwrap_or_else(|e| e.into_inner());
    assert!(
        reset_peak() && peak_kb() > 0,
        "the peak-memory test needs Linux /proc/self/clear_refs and VmHWM"
    );
    let pool = montecarlo::pool(Some(2)).unwrap();
    // Warm the pool and the allocator.
    explore_two_inputs(&pool, 8, 5);
    let measure = |points: usize, reps: u64| {
        reset_peak();
        let sets = explore_two_inputs(&pool, points, reps);
        (sets, peak_kb())
    };
    let (sets, few) = measure(64, 5);
    let (_, many) = measure(64, 50);
    let (more_sets, big) = measure(512, 5);
    eprintln!(
        "peak RSS: 64 base points ({sets} sets) × 5 replications {few} kB, × 50 {many} kB; 512 base points ({more_sets} sets) × 5 {big} kB"
    );
    // Keeping every replication, 45 more of two policies at every set would add this much
    // (their metric rows alone); folded as each set finishes, only the replications in
    // flight are held, whatever their number.
    let kept_kb = sets as f64 * 45.0 * 2.0 * row_bytes() / 1024.0;
    let added = many as f64 - few as f64;
    assert!(
        added < kept_kb / 4.0,
        "replications ×10 added {added:.0} kB; keeping them would add {kept_kb:.0} kB"
    );
    // More sets cost their folds and plans (docs/performance.md has the figures): the
    // measurement above must at least see them grow.
    assert!(big > few, "{big} kB at {more_sets} sets, {few} kB at {sets}");
}
