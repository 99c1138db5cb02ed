//! The report's opening: the verdict at a point and the decision table (decision.csv).

use std::fmt::Write as _;

use super::{esc, svg, Results};
use crate::decision::DecisionRow;
use crate::production::Who;

/// The verdict at point `k` and the decision table (from decision.csv), if there is one.
pub(super) fn section(r: &Results, k: usize, at: &str) -> String {
    let Some(rows) = r.decision.get(&k) else {
        return String::new();
    };
    let names: Vec<String> = rows.iter().map(|(p, _)| p.clone()).collect();
    let only: Vec<DecisionRow> = rows.iter().map(|(_, d)| d.clone()).collect();
    let no_value = (r.policies.iter()).all(|p| r.stat(k, p, "value_released").mean == 0.0);
    let status_quo = (rows.iter())
        .find(|(_, d)| d.status_quo)
        .map_or(r.baseline.clone(), |(p, d)| {
            if d.by == Who::People {
                format!("{p} (by hand)")
            } else {
                p.clone()
            }
        });
    let mut h = format!("<h2>Decision{at}</h2>");
    for s in crate::decision::verdict(&names, &only, no_value) {
        write!(h, "<p><b>{}</b></p>", esc(&s)).ok();
    }
    let metric = only.first().map_or(String::new(), |d| {
        if d.unit.is_empty() {
            d.metric.clone()
        } else {
            format!("{}, {}", d.metric, d.unit)
        }
    });
    write!(h, "<table><tr><th>policy</th><th>rank</th><th>meets every constraint</th><th>{} (95% CI)</th><th>− best (paired)</th><th>bad replication (worst 1 in 20)</th><th>− the status quo, {} (paired)</th><th>constraints</th></tr>", esc(&metric), esc(&status_quo)).ok();
    let iv = |m: f64, lo: f64, hi: f64| {
        if m.is_finite() {
            svg::with_interval(m, lo, hi)
        } else {
            "–".into()
        }
    };
    for (p, d) in rows {
        write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&if d.by == Who::People { format!("{p} (by hand)") } else { p.clone() }),
            d.rank.map_or("–".into(), |k| k.to_string()),
            esc(&d.feasible),
            iv(d.mean, d.ci_low, d.ci_high),
            iv(d.vs_best, d.vs_best_low, d.vs_best_high),
            if d.bad_month.is_finite() { crate::report::table::sig3(d.bad_month) } else { "–".into() },
            iv(d.vs_status_quo, d.vs_status_quo_low, d.vs_status_quo_high),
            esc(if d.constraints.is_empty() {
                "none"
            } else {
                &d.constraints
            })
        )
        .ok();
    }
    h.push_str("</table>");
    h
}
