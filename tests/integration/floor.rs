//! The floor (Kiefer–Wolfowitz recursion, `oversim::floor`) and the engine agree on the
//! reference model: they draw the same random numbers in the same order, so replication by
//! replication they follow the same sample path and differ only at the end of the window
//! (the engine measures waits of service starts inside it, the recursion of arrivals, and
//! the engine releases what is done by the end, the recursion every attempt passed).

use crate::common;

use common::{assert_ci, erlang_c};
use oversim::engine::simulate;
use oversim::floor::{self, Reference};
use oversim::metrics::M;
use oversim::scenario;

fn scenario_of(m: &Reference) -> scenario::Scenario {
    let text = format!(
        "name = \"reference\"\n[run]\nhorizon = \"{}h\"\n[workload]\nrate = \"{}/h\"\n[[workload.class]]\nname = \"only\"\nshare = 1.0\ndefect_prob = {}\n[[policy]]\nname = \"review\"\n[[policy.stage]]\nkind = \"human_review\"\nreviewers = {}\nservice = {{ dist = \"exponential\", mean = \"1m\" }}\ndetect = {}\n",
        m.horizon, m.rate, m.defect_prob, m.reviewers, m.detect
    );
    scenario::load("reference", &text, &[]).unwrap().scenario
}

#[test]
fn floor_and_engine_follow_the_same_sample_path() {
    for c in [1usize, 4] {
        let m = Reference {
            rate: 0.9 * c as f64 * 60.0,
            mean_service: 1.0 / 60.0,
            reviewers: c,
            defect_prob: 0.05,
            detect: 0.8,
            horizon: 2000.0,
        };
        let sc = scenario_of(&m);
        let (mut eng, mut flo) = (Vec::new(), Vec::new());
        for rep in 0..30 {
            let e = simulate(&sc, 0, rep);
            let f = floor::simulate(&m, 0, rep);
            let (we, wf) = (e.metrics.get(M::mean_wait_min), f.mean_wait * 60.0);
            assert!(
                (we - wf).abs() <= 0.01 * wf,
                "c = {c}, replication {rep}: engine {we} vs floor {wf} min"
            );
            // The recursion releases every attempt a review passes, the engine those done
            // by the end: on one sample path the engine is short by at most the attempts
            // still in the system then.
            let released = e.metrics.get(M::released) as u64;
            let short = f.released.checked_sub(released);
            assert!(
                short.is_some_and(|s| s <= e.ledger.in_system),
                "c = {c}, replication {rep}: released {released} by the engine, {} by the floor, {} in the system at the end",
                f.released,
                e.ledger.in_system
            );
            eng.push(we);
            flo.push(wf);
        }
        // And both agree with Erlang C.
        let a = m.rate * m.mean_service;
        let theory = 60.0 * erlang_c(c as u32, a) / (c as f64 / m.mean_service - m.rate);
        assert_ci(&format!("engine Wq, c = {c}"), &eng, theory);
        assert_ci(&format!("floor Wq, c = {c}"), &flo, theory);
    }
}
