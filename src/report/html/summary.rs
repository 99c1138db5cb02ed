//! The report's words and table at a point: the summary sentences (each policy against the
//! baseline, net value first once the work has a value, then the tail) and the table of
//! means with their intervals and units.

use std::fmt::Write as _;

use super::{esc, sig, Results, Stat};

fn pct(x: f64) -> String {
    format!("{:.0}%", 100.0 * x.abs())
}

/// Plain-language sentences comparing each policy with the baseline, from the numbers.
pub fn summary_sentences(r: &Results, point: usize) -> Vec<String> {
    let base = &r.baseline;
    let mut out = Vec::new();
    let bt = r.stat(point, base, "throughput_per_hour");
    let used = |metric: &str| (r.policies.iter()).any(|p| meaningful(r.stat(point, p, metric).mean));
    // What the policies are worth comes first, once actions have a value.
    if used("value_released") {
        for p in r.policies.iter().filter(|p| *p != base) {
            let (nv, bnv) = (r.stat(point, p, "net_value"), r.stat(point, base, "net_value"));
            let unit = if r.money_unit.is_empty() {
                String::new()
            } else {
                format!(" {}", esc(&r.money_unit))
            };
            let mut s = format!(
                "<b>{}</b> is worth {}{unit} net (value released less every cost) against <b>{}</b>'s {}",
                esc(p),
                sig(nv.mean),
                esc(base),
                sig(bnv.mean)
            );
            if let Some(d) = r.comparison.get(&(point, p.clone(), "net_value".to_string())) {
                if d.lo.is_finite() {
                    write!(
                        s,
                        ": a difference of {}{unit} (95% CI {} to {})",
                        sig(d.mean),
                        sig(d.lo),
                        sig(d.hi)
                    )
                    .ok();
                }
            }
            s.push('.');
            out.push(s);
        }
    }
    for p in r.policies.iter().filter(|p| *p != base) {
        let t = r.stat(point, p, "throughput_per_hour");
        let e = r
            .comparison
            .get(&(point, p.clone(), "escapes_per_1k".to_string()));
        let be = r.stat(point, base, "escapes_per_1k");
        let mut s = format!(
            "<b>{}</b> releases {} actions per hour ({}× <b>{}</b>'s {})",
            esc(p),
            sig(t.mean),
            sig(t.mean / bt.mean),
            esc(base),
            sig(bt.mean)
        );
        if let Some(d) = e.filter(|d| d.mean.is_finite() && be.mean > 0.0) {
            let word = if d.mean < 0.0 { "fewer" } else { "more" };
            let (lo, hi) = (d.lo / be.mean, d.hi / be.mean);
            let ci = if lo.is_finite() {
                format!(" (95% CI {:+.0}% to {:+.0}%)", 100.0 * lo, 100.0 * hi)
            } else {
                String::new()
            };
            write!(
                s,
                " with {} {word} escaped defects per 1000 releases{ci}",
                pct(d.rel)
            )
            .ok();
        }
        for (metric, what, fewer) in [
            ("harm", "harm", "less"),
            ("reviewer_hours", "reviewer hours", "fewer"),
            ("cost_per_release", "cost per release", "less"),
        ] {
            if let Some(d) = r
                .comparison
                .get(&(point, p.clone(), metric.to_string()))
                .filter(|d| d.rel.is_finite())
            {
                let word = if d.rel < 0.0 { fewer } else { "more" };
                let sure = if d.lo.is_finite() && (d.lo > 0.0 || d.hi < 0.0) {
                    ""
                } else {
                    " (not distinguishable from zero at 95%)"
                };
                write!(s, ", {} {word} {what}{sure}", pct(d.rel)).ok();
            }
        }
        s.push('.');
        out.push(s);
    }
    // The tail: the bad replications, not the average one.
    for p in r.policies.iter().filter(|p| *p != base) {
        let (h, bh) = (r.stat(point, p, "harm"), r.stat(point, base, "harm"));
        if !(h.p95.is_finite() && bh.p95.is_finite()) {
            continue;
        }
        let mut s = format!(
            "In its worst 5% of replications <b>{}</b> does more than {} harm (<b>{}</b>: {})",
            esc(p),
            sig(h.p95),
            esc(base),
            sig(bh.p95)
        );
        if used("any_severe") {
            let (a, ba) = (r.stat(point, p, "any_severe"), r.stat(point, base, "any_severe"));
            // 0/1 per replication: the exact (Clopper–Pearson) interval, which stays honest
            // when the event is rare.
            // None in n replications: the rule of three (a one-sided 95% bound of 3/n) says
            // what the exact interval's upper end means.
            let n = r.manifest.as_ref().map_or(0, |m| m.replications_done);
            let exact = |x: &Stat| {
                let three = if x.mean == 0.0 && n > 0 {
                    format!(
                        " (none in {n}: under {} by the rule of three)",
                        pct(3.0 / n as f64)
                    )
                } else {
                    String::new()
                };
                format!("{} [{}, {}]{three}", pct(x.mean), pct(x.lo), pct(x.hi))
            };
            write!(
                s,
                "; the share of replications in which a severe defect escapes is {} (<b>{}</b>: {}; exact 95% intervals)",
                exact(&a),
                esc(base),
                exact(&ba)
            )
            .ok();
            if a.mean > 0.5 && ba.mean > 0.5 {
                s.push_str(": severe escapes are not rare here, so whether one happens cannot tell the policies apart (compare their number, severe_escapes)");
            }
        }
        s.push('.');
        out.push(s);
    }
    if !out.is_empty() {
        out.push(
            "Escape rate is the share of defects that got through; escapes per 1000 releases is \
             how often released work is defective; harm weighs each escape by its class. A \
             policy can lower one without the others."
                .to_string(),
        );
    }
    out
}

/// A number that means something: finite and not zero.
fn meaningful(x: f64) -> bool {
    x.is_finite() && x != 0.0
}

/// The table's columns: metric, heading, and whether the column is its 95th percentile over
/// replications (the tail) rather than its mean. Money columns get their unit from
/// [`Results::money_unit`]; net value shows once the work has a value.
const TABLE_METRICS: &[(&str, &str, bool)] = &[
    ("throughput_per_hour", "released / h", false),
    ("escape_rate", "escape rate", false),
    ("escapes_per_1k", "escapes / 1k", false),
    ("harm", "harm", false),
    ("harm", "harm p95", true),
    ("reviewer_hours", "reviewer h (on duty)", false),
    ("work_hours", "work h (people doing the work, on duty)", false),
    ("reviewer_utilization", "reviewer utilization", false),
    (
        "p95_wait_min",
        "p95 review wait (min): an action's wait for a reviewer",
        false,
    ),
    (
        "latency_mean_min",
        "mean latency (min): an action's arrival to release",
        false,
    ),
    ("halts", "halts", false),
    ("cost_per_release", "cost / release", false),
    ("net_value", "net value", false),
];

impl Results {
    /// The currency (`USD`), from the net-value unit of decision.csv (`USD per 30d`).
    pub(super) fn currency(&self) -> &str {
        self.money_unit.split(" per ").next().unwrap_or("")
    }

    /// Whether some policy's mean of `metric` at `point` is a number other than zero.
    pub(super) fn used(&self, point: usize, metric: &str) -> bool {
        (self.policies.iter()).any(|p| meaningful(self.stat(point, p, metric).mean))
    }
}

pub(super) fn table(r: &Results, point: usize) -> String {
    let columns: Vec<&(&str, &str, bool)> = (TABLE_METRICS.iter())
        .filter(|(m, _, _)| match *m {
            "work_hours" | "latency_mean_min" | "halts" => r.used(point, m),
            "net_value" => r.used(point, "value_released"),
            _ => true,
        })
        .collect();
    let mut s = String::from("<table><tr><th>policy</th>");
    for (m, h, _) in &columns {
        let unit = match *m {
            "cost_per_release" if !r.currency().is_empty() => format!(" ({} per release)", r.currency()),
            "net_value" if !r.money_unit.is_empty() => format!(" ({})", r.money_unit),
            _ => String::new(),
        };
        write!(s, "<th>{}{}</th>", esc(h), esc(&unit)).ok();
    }
    s.push_str("</tr>");
    for p in &r.policies {
        write!(s, "<tr><td>{}</td>", esc(p)).ok();
        for (m, _, p95) in &columns {
            let st = r.stat(point, p, m);
            if *p95 {
                write!(s, "<td>{}</td>", esc(&sig(st.p95))).ok();
                continue;
            }
            let cell = if !st.defined() {
                "–".to_string()
            } else if st.hi.is_finite() {
                crate::report::table::mean_pm(st.mean, (st.hi - st.lo) / 2.0)
            } else {
                sig(st.mean)
            };
            write!(s, "<td>{}</td>", esc(&cell)).ok();
        }
        s.push_str("</tr>");
    }
    s.push_str("</table>");
    s
}
