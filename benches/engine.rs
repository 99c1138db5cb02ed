//! Criterion benchmarks: the event queue, the samplers, and whole replications.
//!
//! Run with `cargo bench`. Engine benchmarks report simulated actions per second
//! (throughput in elements), so figures compare across scenarios.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use oversim::dist::Dist;
use oversim::engine::{simulate, EventQueue};
use oversim::rng::{stream_rng, uniform};
use oversim::scenario::{self, Scenario};

fn event_queue(c: &mut Criterion) {
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
            q.schedule(t + uniform(&mut rng), black_box(e));
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

fn reference(c: u32, rho: f64) -> Scenario {
    // One human review stage, Poisson arrivals, exponential 1-minute reviews, p = 0.05,
    // d = 0.8, at offered load rho.
    let rate = rho * c as f64 * 60.0;
    let text = format!(
        r#"name = "reference"
[run]
horizon = "1000h"
[workload]
rate = "{rate}/h"
[[workload.class]]
name = "only"
share = 1.0
defect_prob = 0.05
[[policy]]
name = "review"
[[policy.stage]]
kind = "human_review"
reviewers = {c}
service = {{ dist = "exponential", mean = "1m" }}
detect = 0.8
"#
    );
    scenario::load("reference", &text, &[]).unwrap().scenario
}

fn engine(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine");
    g.sample_size(20);
    for (servers, rho) in [(1, 0.9), (4, 0.9)] {
        let sc = reference(servers, rho);
        let actions = sc.workload.rate * sc.run.horizon;
        g.throughput(Throughput::Elements(actions as u64));
        g.bench_function(
            BenchmarkId::new("reference", format!("c{servers}_rho{rho}")),
            |b| {
                let mut rep = 0;
                b.iter(|| {
                    rep += 1;
                    black_box(simulate(&sc, 0, rep))
                })
            },
        );
    }
    let sc = scenario::load("default", scenario::DEFAULT_SCENARIO, &[])
        .unwrap()
        .scenario;
    let actions = sc.workload.mean_rate() * (sc.run.horizon + sc.run.warmup);
    g.throughput(Throughput::Elements(actions as u64));
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

criterion_group!(benches, event_queue, engine);
criterion_main!(benches);
