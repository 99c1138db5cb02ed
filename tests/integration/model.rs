//! Behaviours of the model that have exact bounds rather than a distribution.

use crate::common;

use common::{metric, run};
use oversim::metrics::M;

/// Shifts: on-duty hours are the scheduled shift hours plus at most one service time of
/// overrun per reviewer and shift (the item in hand is finished).
#[test]
fn shift_duty_hours() {
    let text = r#"name = "shifts"
[run]
replications = 4
horizon = "10d"
seed = 3
[workload]
rate = "20/h"
[[workload.class]]
name = "only"
share = 1.0
defect_prob = 0.1
[[policy]]
name = "day"
[[policy.stage]]
kind = "human_review"
reviewers = 3
service = { dist = "constant", value = "1m" }
detect = 0.5
shifts = { on = "8h", period = "24h", start = "9h" }
"#;
    let (_, r) = run(text);
    let scheduled = 3.0 * 8.0 * 10.0;
    for h in metric(&r, 0, M::reviewer_hours) {
        assert!(
            h >= scheduled && h <= scheduled + 3.0 * 10.0 / 60.0,
            "{h} vs {scheduled}"
        );
    }
    // Night arrivals wait for the morning shift: some waits exceed 16 hours minus a bit.
    for w in metric(&r, 0, M::p95_wait_min) {
        assert!(w > 8.0 * 60.0, "p95 wait {w} min");
    }
}

/// Pressure: with the queue past the threshold, reviewers go faster and catch less, so an
/// overloaded reviewer under pressure lets more defects through than one who is not.
#[test]
fn pressure_trades_detection_for_speed() {
    let base = |pressure: &str| {
        format!(
            r#"name = "pressure"
[run]
replications = 20
horizon = "200h"
seed = 4
[workload]
rate = "70/h"
[[workload.class]]
name = "only"
share = 1.0
defect_prob = 0.2
[[policy]]
name = "p"
[[policy.stage]]
kind = "human_review"
reviewers = 1
service = {{ dist = "exponential", mean = "1m" }}
detect = 0.8
max_wait = "1h"
on_timeout = "drop"
{pressure}
"#
        )
    };
    let (_, calm) = run(&base(""));
    let (_, hurried) = run(&base(
        "pressure = { queue = 5, speedup = 2.0, detect_factor = 0.5 }",
    ));
    let mean = |v: Vec<f64>| v.iter().sum::<f64>() / v.len() as f64;
    let (e0, e1) = (
        mean(metric(&calm, 0, M::escape_rate)),
        mean(metric(&hurried, 0, M::escape_rate)),
    );
    let (q0, q1) = (
        mean(metric(&calm, 0, M::mean_queue)),
        mean(metric(&hurried, 0, M::mean_queue)),
    );
    assert!(e1 > e0 + 0.1, "escape rate {e0} → {e1}");
    assert!(q1 < q0 / 2.0, "queue {q0} → {q1}");
}
