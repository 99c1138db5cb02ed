//! Criterion benchmarks in three groups:
//!
//! - `micro`: the event queue and the samplers;
//! - `engine`: simulated actions per second on the reference model (one human review stage,
//!   Poisson arrivals, exponential 1-minute reviews, p = 0.05, d = 0.8) at c = 1 and c = 4
//!   reviewers, ρ = 0.9, next to the floor (the Kiefer–Wolfowitz recursion on the same
//!   streams, `oversim::floor`), and on the default scenario;
//! - `scaling`: replications per second on one thread and on all threads;
//! - `explore`: an exploration's per-set setup (the default scenario's ten uncertain inputs
//!   applied and checked) against one set's runs (20 replications of both policies), and
//!   the sensitivity estimator with its bootstrap (N = 256, ten inputs, 20 replications).
//!
//! Before Criterion's own output, a table prints each engine benchmark's nanoseconds per
//! action and its ratio to the floor (best of several timed runs in one process), next to a
//! bare event loop: the same model on oversim's event queue with no statistics, stages or
//! bookkeeping, which shows how much of the engine's time the event list itself takes, and
//! the same loop keeping oversim's statistics; the last column ("overhead") is the engine's
//! time over that loop's.
//! Run: `cargo bench --bench engine` (or `scripts/perf.sh` for the whole suite).

// Tests and benchmarks print with the standard macros; the CLI prints through say!/tell!.
#![allow(clippy::disallowed_macros)]

use std::hint::black_box;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use oversim::dist::Dist;
use oversim::engine::{simulate, EventQueue, Next};
use oversim::floor::{self, Reference};
use oversim::metrics::{DurationHistogram, TimeAvg};
use oversim::rng::{attempt_entity, domain, purpose, stream_rng, uniform, Ahead, Keyed, ATTEMPT_BITS};
use oversim::scenario::{self, Scenario};
use rand_distr::{Distribution, Exp1};

/// The reference model with `c` reviewers at load `rho`, over `horizon` hours.
fn reference(c: usize, rho: f64, horizon: f64) -> Reference {
    Reference {
        rate: rho * c as f64 * 60.0,
        mean_service: 1.0 / 60.0,
        reviewers: c,
        defect_prob: 0.05,
        detect: 0.8,
        horizon,
    }
}

/// The same model as an oversim scenario.
fn scenario_of(m: &Reference) -> Scenario {
    let text = format!(
        r#"name = "reference"
[run]
horizon = "{}h"
[workload]
rate = "{}/h"
[[workload.class]]
name = "only"
share = 1.0
defect_prob = {}
[[policy]]
name = "review"
[[policy.stage]]
kind = "human_review"
reviewers = {}
service = {{ dist = "exponential", mean = "1m" }}
detect = {}
"#,
        m.horizon, m.rate, m.defect_prob, m.reviewers, m.detect
    );
    scenario::load("reference", &text, &[])
        .expect("reference scenario")
        .scenario
}

/// The default scenario with the staffing its rules choose written in.
fn default_scenario() -> Scenario {
    scenario::load(
        "default",
        scenario::DEFAULT_SCENARIO,
        &scenario::default_staffing(),
    )
    .expect("default scenario")
    .scenario
}

/// The reference model as a bare event loop on [`EventQueue`]: arrivals in the side slot,
/// one completion event per busy reviewer, a FIFO of waiting actions, the same keyed draws
/// as the engine. With `STATS` it also keeps the statistics oversim keeps
/// on this model (time averages of queue and busy reviewers, streaming histograms of waits
/// and latency); without, only two sums. Returns (escapes, total queue wait).
fn bare_event_loop<const STATS: bool>(m: &Reference, replication: u64) -> (u64, f64) {
    let mut queue = TimeAvg::new(0.0, m.horizon);
    let mut busy = TimeAvg::new(0.0, m.horizon);
    queue.open();
    busy.open();
    let (mut waits, mut latency) = (DurationHistogram::new(), DurationHistogram::new());
    // The draws the engine takes ahead, taken ahead here too.
    let workload = Keyed::new(0, replication, domain::WORKLOAD);
    let mut gaps = Ahead::new(workload, purpose::ARRIVAL, 0, 0);
    let mut attempts = Ahead::new(workload, purpose::ATTEMPT, ATTEMPT_BITS, 1);
    let stage = Keyed::of_name(0, replication, floor::STAGE);
    let mut detect = Ahead::new(stage, purpose::DETECT, ATTEMPT_BITS, 1);
    let mut q: EventQueue<(u32, u32)> = EventQueue::with_capacity(64);
    // (arrival time, defective, number) per action, in a slab with a free list.
    let mut slab: Vec<(f64, bool, u64)> = Vec::with_capacity(1024);
    let mut free: Vec<u32> = Vec::new();
    let mut fifo = std::collections::VecDeque::new();
    let mut idle: Vec<u32> = (0..m.reviewers as u32).rev().collect();
    let gap = 1.0 / m.rate;
    let mut next = 0.0;
    let (mut escaped, mut wait, mut arrived) = (0u64, 0.0, 0u64);
    let start = |q: &mut EventQueue<(u32, u32)>,
                 detect: &mut Ahead,
                 now: f64,
                 r: u32,
                 id: u32,
                 (defective, n): (bool, u64)| {
        let entity = attempt_entity(n, 1);
        let s: f64 = Exp1.sample(&mut stage.draws(entity, purpose::SERVICE));
        let caught = defective && detect.uniform(n) < m.detect;
        q.schedule(now + s * m.mean_service, (r, id | (caught as u32) << 31));
    };
    let e: f64 = Exp1.sample(&mut gaps.draws(0));
    next += e * gap;
    q.schedule_side(next);
    while let Some(ev) = q.pop_before(m.horizon) {
        match ev {
            Next::Side(now) => {
                let n = arrived;
                arrived += 1;
                let e: f64 = Exp1.sample(&mut gaps.draws(arrived));
                next += e * gap;
                q.schedule_side(next);
                let u = uniform(&mut attempts.draws(n));
                let defective = u < m.defect_prob;
                let id = match free.pop() {
                    Some(i) => {
                        slab[i as usize] = (now, defective, n);
                        i
                    }
                    None => {
                        slab.push((now, defective, n));
                        slab.len() as u32 - 1
                    }
                };
                match idle.pop() {
                    Some(r) => {
                        if STATS {
                            busy.add(now, 1.0);
                            waits.record(0.0);
                        }
                        start(&mut q, &mut detect, now, r, id, (defective, n))
                    }
                    None => {
                        fifo.push_back(id);
                        if STATS {
                            queue.set(now, fifo.len() as f64);
                        }
                    }
                }
            }
            Next::Heap(now, (r, tagged)) => {
                let id = tagged & !(1 << 31);
                escaped += (slab[id as usize].1 && tagged >> 31 == 0) as u64;
                if STATS {
                    latency.record(now - slab[id as usize].0);
                }
                free.push(id);
                match fifo.pop_front() {
                    Some(n) => {
                        let (at, defective, number) = slab[n as usize];
                        wait += now - at;
                        if STATS {
                            queue.set(now, fifo.len() as f64);
                            waits.record(now - at);
                        }
                        start(&mut q, &mut detect, now, r, n, (defective, number));
                    }
                    None => {
                        idle.push(r);
                        if STATS {
                            busy.add(now, -1.0);
                        }
                    }
                }
            }
        }
    }
    black_box((&queue, &busy, &waits, &latency));
    (escaped, wait)
}

/// Best-of-`runs` nanoseconds per action of each of `fs`, each simulating `actions` actions.
/// The runs are interleaved (one of each, then again), so a change in the machine's speed
/// while they run (it is shared) falls on all of them alike rather than on one.
fn ns_per_action<const N: usize>(actions: f64, runs: usize, fs: [&dyn Fn(u64); N]) -> [f64; N] {
    let mut best = [f64::INFINITY; N];
    for r in 0..runs {
        for (f, b) in fs.iter().zip(&mut best) {
            let t = Instant::now();
            f(r as u64);
            *b = b.min(t.elapsed().as_nanos() as f64 / actions);
        }
    }
    best
}

/// Prints engine time per action against the floor's, measured in this process, and the
/// engine's overhead: its time over the bare loop's with the same statistics, that is, what
/// stages, review pools and bookkeeping cost beyond an event list that computes the same
/// outputs (the part of the time the engine's design controls; a rise flags a regression).
fn ratio_table() {
    eprintln!(
        "\n{:<20} {:>8} {:>8} {:>7} {:>10} {:>7} {:>12} {:>7} {:>10}",
        "reference model",
        "floor",
        "oversim",
        "ratio",
        "bare loop",
        "ratio",
        "+statistics",
        "ratio",
        "overhead"
    );
    for (c, rho) in [(1usize, 0.9), (4, 0.9)] {
        let m = reference(c, rho, 20_000.0);
        let sc = scenario_of(&m);
        let actions = m.rate * m.horizon;
        let [f, e, b, s] = ns_per_action(
            actions,
            7,
            [
                &|r| {
                    black_box(floor::simulate(&m, 0, r));
                },
                &|r| {
                    black_box(simulate(&sc, 0, r));
                },
                &|r| {
                    black_box(bare_event_loop::<false>(&m, r));
                },
                &|r| {
                    black_box(bare_event_loop::<true>(&m, r));
                },
            ],
        );
        eprintln!(
            "{:<20} {:>8.1} {:>8.1} {:>6.2}x {:>10.1} {:>6.2}x {:>12.1} {:>6.2}x {:>9.2}x",
            format!("c = {c}, rho = {rho}"),
            f,
            e,
            e / f,
            b,
            b / f,
            s,
            s / f,
            e / s
        );
    }
    eprintln!();
}

fn micro(c: &mut Criterion) {
    let mut g = c.benchmark_group("micro");
    g.throughput(Throughput::Elements(1));
    // Steady state of a queue holding 64 events: one pop and one push per operation.
    g.bench_function("event_queue_pop_push_64", |b| {
        let mut q = EventQueue::with_capacity(128);
        let mut rng = stream_rng(1, 0, 0);
        for i in 0..64 {
            q.schedule(uniform(&mut rng), i);
        }
        b.iter(|| {
            let (t, e) = q.pop().unwrap();
            q.schedule(t + uniform(&mut rng), black_box(e.unwrap()));
        })
    });
    let mut rng = stream_rng(1, 0, 1);
    for (name, d) in [
        ("exponential", Dist::exponential(0.1)),
        ("lognormal", Dist::lognormal(0.1, 1.0).unwrap()),
        ("gamma", Dist::gamma(0.1, 0.5).unwrap()),
    ] {
        g.bench_function(BenchmarkId::new("sample", name), |b| {
            b.iter(|| black_box(d.sample(&mut rng)))
        });
    }
    g.finish();
}

fn engine(c: &mut Criterion) {
    ratio_table();
    let mut g = c.benchmark_group("engine");
    g.sample_size(20);
    for (servers, rho) in [(1, 0.9), (4, 0.9)] {
        let m = reference(servers, rho, 2_000.0);
        let sc = scenario_of(&m);
        g.throughput(Throughput::Elements((m.rate * m.horizon) as u64));
        let id = format!("c{servers}_rho{rho}");
        g.bench_function(BenchmarkId::new("floor", &id), |b| {
            let mut rep = 0;
            b.iter(|| {
                rep += 1;
                black_box(floor::simulate(&m, 0, rep))
            })
        });
        g.bench_function(BenchmarkId::new("oversim", &id), |b| {
            let mut rep = 0;
            b.iter(|| {
                rep += 1;
                black_box(simulate(&sc, 0, rep))
            })
        });
    }
    let sc = default_scenario();
    g.throughput(Throughput::Elements(
        (sc.workload.mean_rate() * (sc.run.horizon + sc.run.warmup)) as u64,
    ));
    for (p, policy) in sc.policies.iter().enumerate() {
        g.bench_function(BenchmarkId::new("default", &policy.name), |b| {
            let mut rep = 0;
            b.iter(|| {
                rep += 1;
                black_box(simulate(&sc, p, rep))
            })
        });
    }
    g.finish();
}

fn scaling(c: &mut Criterion) {
    let mut g = c.benchmark_group("scaling");
    g.sample_size(10);
    let mut sc = default_scenario();
    sc.run.replications = 40;
    g.throughput(Throughput::Elements(
        sc.run.replications * sc.policies.len() as u64,
    ));
    let all = std::thread::available_parallelism().map_or(1, |n| n.get());
    for threads in [1, all] {
        g.bench_function(
            BenchmarkId::new("replications", format!("{threads}_threads")),
            |b| b.iter(|| black_box(oversim::montecarlo::run(&sc, Some(threads), &|| {}).unwrap())),
        );
    }
    g.finish();
}

fn explore(c: &mut Criterion) {
    use oversim::explore::design::{Design, DesignKind};
    use oversim::explore::sensitivity::{indices, Bootstrap};
    use oversim::explore::{plan, Spec};
    let mut g = c.benchmark_group("explore");
    g.sample_size(10);
    let spec = Spec {
        design: DesignKind::Sobol,
        points: 8,
        metric: "net_value".into(),
        bootstrap: 1000,
        map: None,
    };
    let sets = 8 * 12;
    g.throughput(Throughput::Elements(sets));
    g.bench_function("setup_96_sets", |b| {
        b.iter(|| black_box(plan("default", scenario::DEFAULT_SCENARIO, &[], &spec).unwrap()))
    });
    let sc = default_scenario();
    g.throughput(Throughput::Elements(40));
    g.bench_function("one_set_20_replications", |b| {
        b.iter(|| {
            for r in 0..20 {
                for p in 0..sc.policies.len() {
                    black_box(simulate(&sc, p, r));
                }
            }
        })
    });
    let d = Design::new(DesignKind::Sobol, 256, 10, 1);
    let y: Vec<Vec<f64>> = (d.rows.iter())
        .map(|u| (0..20).map(|r| u.iter().sum::<f64>() + 0.01 * r as f64).collect())
        .collect();
    let boot = Bootstrap::new(256, 1000, 1);
    g.throughput(Throughput::Elements(1));
    g.bench_function("indices_n256_k10_r20_b1000", |b| {
        b.iter(|| black_box(indices(&d, &y, &boot, 0.95)))
    });
    g.finish();
}

criterion_group!(benches, micro, engine, scaling, explore);
criterion_main!(benches);
