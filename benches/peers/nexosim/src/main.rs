//! The reference model of oversim's benchmarks (Poisson arrivals, one review stage with c
//! reviewers, exponential 1-minute reviews, defect probability 0.05, detection 0.8) in
//! nexosim 1.0, as an idiomatic peer: a source model that schedules its own arrivals and
//! sends each action through an output port to a station model that queues it and
//! schedules each review's end. The station keeps the statistics oversim reports on this
//! model (mean wait, reviews done, defects caught) and answers a query for them.
//!
//! Usage: `oversim-peer-nexosim C HOURS RUNS [THREADS]` prints the best ns per action of
//! RUNS runs (THREADS: nexosim's worker threads, default 1).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use nexosim::model::{Context, Model, schedulable};
use nexosim::ports::{Output, QuerySource};
use nexosim::simulation::{Mailbox, SimInit};
use nexosim::time::MonotonicTime;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Exp1};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

/// An action: when it arrived and whether it is defective.
#[derive(Clone, Copy, Serialize, Deserialize)]
pub struct Action {
    arrived: f64,
    defective: bool,
}

/// Hours → simulated duration (at least a nanosecond: nexosim schedules strictly later).
fn hours(h: f64) -> Duration {
    Duration::from_secs_f64(h * 3600.0).max(Duration::from_nanos(1))
}

fn now_h(cx: &Context<impl Model>) -> f64 {
    cx.time().duration_since(MonotonicTime::EPOCH).as_secs_f64() / 3600.0
}

/// The AI agent: Poisson arrivals at `rate` per hour.
#[derive(Serialize, Deserialize)]
pub struct Source {
    pub out: Output<Action>,
    rate: f64,
    defect_prob: f64,
    rng: Xoshiro256PlusPlus,
}

#[Model]
impl Source {
    #[nexosim(init)]
    async fn init(&mut self, cx: &Context<Self>) {
        let gap: f64 = Exp1.sample(&mut self.rng);
        cx.schedule_event(hours(gap / self.rate), schedulable!(Self::arrive), ()).unwrap();
    }

    #[nexosim(schedulable)]
    async fn arrive(&mut self, _: (), cx: &Context<Self>) {
        let action = Action {
            arrived: now_h(cx),
            defective: self.rng.random::<f64>() < self.defect_prob,
        };
        self.out.send(action).await;
        let gap: f64 = Exp1.sample(&mut self.rng);
        cx.schedule_event(hours(gap / self.rate), schedulable!(Self::arrive), ()).unwrap();
    }
}

/// The review stage: a FIFO queue and `c` reviewers.
#[derive(Serialize, Deserialize)]
pub struct Station {
    queue: VecDeque<Action>,
    /// The action each reviewer holds.
    busy: Vec<Option<Action>>,
    mean_service: f64,
    detect: f64,
    rng: Xoshiro256PlusPlus,
    waits: u64,
    wait_sum: f64,
    caught: u64,
    done: u64,
}

/// What the station measured.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    pub mean_wait_min: f64,
    pub done: u64,
    pub caught: u64,
}

#[Model]
impl Station {
    /// An action arrives: a free reviewer starts on it, or it waits.
    pub async fn arrive(&mut self, a: Action, cx: &Context<Self>) {
        match self.busy.iter().position(Option::is_none) {
            Some(r) => self.start(r, a, cx),
            None => self.queue.push_back(a),
        }
    }

    fn start(&mut self, r: usize, a: Action, cx: &Context<Self>) {
        self.waits += 1;
        self.wait_sum += now_h(cx) - a.arrived;
        self.busy[r] = Some(a);
        let s: f64 = Exp1.sample(&mut self.rng);
        cx.schedule_event(hours(s * self.mean_service), schedulable!(Self::finish), r).unwrap();
    }

    #[nexosim(schedulable)]
    async fn finish(&mut self, r: usize, cx: &Context<Self>) {
        let a = self.busy[r].take().expect("the reviewer was busy");
        if a.defective && self.rng.random::<f64>() < self.detect {
            self.caught += 1;
        }
        self.done += 1;
        if let Some(next) = self.queue.pop_front() {
            self.start(r, next, cx);
        }
    }

    pub async fn stats(&mut self) -> Stats {
        Stats {
            mean_wait_min: 60.0 * self.wait_sum / self.waits.max(1) as f64,
            done: self.done,
            caught: self.caught,
        }
    }
}

/// One run at load 0.9; returns (ns per action, stats).
fn run(c: usize, horizon: f64, seed: u64, threads: usize) -> (f64, Stats) {
    let rate = 0.9 * c as f64 * 60.0;
    let mut source = Source {
        out: Output::default(),
        rate,
        defect_prob: 0.05,
        rng: Xoshiro256PlusPlus::seed_from_u64(seed),
    };
    let station = Station {
        queue: VecDeque::new(),
        busy: vec![None; c],
        mean_service: 1.0 / 60.0,
        detect: 0.8,
        rng: Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x9e37_79b9),
        waits: 0,
        wait_sum: 0.0,
        caught: 0,
        done: 0,
    };
    let (source_mbox, station_mbox) = (Mailbox::new(), Mailbox::new());
    source.out.connect(Station::arrive, &station_mbox);
    // One thread, as each oversim replication runs on one (replications run in parallel);
    // `SimInit::new()` spreads the two models over every core, which on this model is far
    // slower (message passing between threads for every action).
    let mut bench = SimInit::with_num_threads(threads);
    let query = QuerySource::new().connect(Station::stats, &station_mbox).register(&mut bench);
    let t0 = MonotonicTime::EPOCH;
    let clock = Instant::now();
    let mut simu = bench
        .add_model(source, source_mbox, "source")
        .add_model(station, station_mbox, "station")
        .init(t0)
        .expect("the bench initialises");
    simu.step_until(t0 + hours(horizon)).expect("the simulation runs");
    let stats = simu.process_query(&query, ()).expect("the station answers");
    let ns = clock.elapsed().as_nanos() as f64 / stats.done.max(1) as f64;
    (ns, stats)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize, default: f64| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(default);
    let (c, horizon, runs) = (arg(1, 1.0) as usize, arg(2, 200.0), arg(3, 3.0) as u64);
    let threads = arg(4, 1.0) as usize;
    let mut best = f64::INFINITY;
    let mut last = Stats::default();
    for k in 0..runs {
        let (ns, stats) = run(c, horizon, 1 + k, threads);
        best = best.min(ns);
        last = stats;
    }
    eprintln!(
        "nexosim, c = {c}: {} reviews, mean wait {:.3} min, {} caught",
        last.done, last.mean_wait_min, last.caught
    );
    println!("{best:.1}");
}
