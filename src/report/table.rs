//! The tables printed after a run: each policy's key metrics with their 95% intervals, and
//! the paired differences against the baseline.

use super::Comparisons;
use crate::experiment::{RunData, Summaries};
use crate::metrics::M;

fn header(dims: &[String], rest: &[&str]) -> Vec<String> {
    dims.iter()
        .cloned()
        .chain(rest.iter().map(|s| s.to_string()))
        .collect()
}

/// The results table and, with two or more policies, the paired comparison table, as
/// printed after a run or a merge.
pub fn tables(run: &RunData, sums: &Summaries, comps: &Comparisons) -> String {
    let mut out = String::from("mean ± 95% CI half-width over replications\n\n");
    out.push_str(&table(run, sums));
    if run.points.first().is_some_and(|p| p.scenario.policies.len() > 1) {
        let base = &run.points[0].scenario.policies[run.baseline].name;
        out.push_str(&format!(
            "\npaired differences against `{base}` (same replications: common random numbers), 95% CI\n\n"
        ));
        out.push_str(&comparison_table(run, comps));
    }
    out.push_str(&units(run));
    out
}

/// The units of the tables' money and harm columns, after them: what a `cost/release` of
/// 302 is, and over which period the totals run.
fn units(run: &RunData) -> String {
    let Some(pt) = run.points.first() else {
        return String::new();
    };
    let period = crate::units::format_hours(pt.scenario.run.horizon);
    let c = &pt.scenario.costs;
    format!(
        "\nunits: harm in {}; cost/release in {}; value and net value in {}; reviewer h (and work h: people doing the work by hand) in on-duty hours per {period}; p95 wait min is reviewers' queue, latency min an action's arrival to release\n",
        c.unit(M::harm, &period),
        c.unit(M::cost_per_release, &period),
        c.unit(M::net_value, &period),
    )
}

/// Decimals that show `x` to three significant digits (at most 6).
fn decimals(x: f64) -> usize {
    if !x.is_finite() || x == 0.0 {
        return 0;
    }
    let mag = libm::log10(x.abs()).floor() as i32;
    (2 - mag).clamp(0, 6) as usize
}

/// Three significant digits, as in the terminal table.
pub fn sig3(x: f64) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let d = decimals(x);
    format!("{x:.d$}")
}

/// `mean ± half-width`, both to the precision of the mean.
pub fn mean_pm(mean: f64, half: f64) -> String {
    if !mean.is_finite() {
        return "–".into();
    }
    let d = decimals(mean);
    if half.is_finite() {
        format!("{mean:.d$} ± {half:.d$}")
    } else {
        format!("{mean:.d$}")
    }
}

/// The columns of the terminal table: metric, heading, and whether the column is shown
/// even when it is zero (or undefined) for every policy.
const TABLE: &[(M, Show, &str, When)] = &[
    (M::throughput_per_hour, Show::Mean, "released/h", When::Always),
    (M::escape_rate, Show::Mean, "escape rate", When::Always),
    (M::escapes_per_1k, Show::Mean, "escapes/1k", When::Always),
    (M::caught_late, Show::Mean, "caught late", When::Used),
    (M::harm, Show::Mean, "harm", When::Always),
    (M::harm, Show::P95, "harm p95", When::Always),
    (M::any_severe, Show::Mean, "P(severe)", When::Used),
    (M::duty_breaches, Show::Mean, "duty breaches", When::Used),
    (M::reviewer_hours, Show::Mean, "reviewer h", When::Always),
    (M::work_hours, Show::Mean, "work h", When::Used),
    (M::reviewer_utilization, Show::Mean, "utilization", When::Used),
    (M::p95_wait_min, Show::Mean, "p95 wait min", When::Used),
    (M::latency_mean_min, Show::Mean, "latency min", When::Used),
    (M::timeouts, Show::Mean, "timeouts", When::Used),
    (M::halts, Show::Mean, "halts", When::Used),
    (M::drift_hours, Show::Mean, "drift h", When::Used),
    (M::cost_per_release, Show::Mean, "cost/release", When::Always),
    (M::value_released, Show::Mean, "value", When::Used),
    (
        M::net_value,
        Show::Mean,
        "net value",
        When::UsedBy(M::value_released),
    ),
];

/// When a column of the terminal table shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum When {
    Always,
    /// When some policy's mean of the metric is a number other than zero.
    Used,
    /// When another metric is used (net value means something once actions have value).
    UsedBy(M),
}

/// What a column of the terminal table shows of a metric's summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Show {
    /// The mean ± its 95% CI half-width.
    Mean,
    /// The 95th percentile over replications: the tail, not the mean.
    P95,
}

/// Lays out rows as aligned columns: the first `left` columns left-aligned, the rest
/// right-aligned.
fn align(rows: &[Vec<String>], left: usize) -> String {
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(c, v)| {
                let pad = " ".repeat(widths[c] - v.chars().count());
                if c < left {
                    format!("{v}{pad}")
                } else {
                    format!("{pad}{v}")
                }
            })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// The (point ×) policy × key-metric table with 95% confidence half-widths.
pub fn table(run: &RunData, sums: &Summaries) -> String {
    let used = |m: M| {
        sums.iter()
            .flatten()
            .any(|ms| ms[m as usize].mean.is_finite() && ms[m as usize].mean != 0.0)
    };
    let shown: Vec<(M, Show, &str)> = TABLE
        .iter()
        .filter(|(m, _, _, when)| match when {
            When::Always => true,
            When::Used => used(*m),
            When::UsedBy(other) => used(*other),
        })
        .map(|(m, show, h, _)| (*m, *show, *h))
        .collect();
    let mut head = header(&run.dims, &["policy"]);
    head.extend(shown.iter().map(|(_, _, h)| h.to_string()));
    let mut rows = vec![head];
    for (pt, ps) in run.points.iter().zip(sums) {
        for (pol, ms) in pt.scenario.policies.iter().zip(ps) {
            let mut row = pt.values.clone();
            row.push(pol.name.clone());
            row.extend(shown.iter().map(|(m, show, _)| {
                let s = &ms[*m as usize];
                match show {
                    Show::Mean => mean_pm(s.mean, s.half_width()),
                    Show::P95 => sig3(s.p95),
                }
            }));
            rows.push(row);
        }
    }
    align(&rows, run.dims.len() + 1)
}

/// Metrics of the comparison table; Δ net value once the work has a value.
const COMPARE: &[(M, &str)] = &[
    (M::escapes_per_1k, "Δ escapes/1k"),
    (M::harm, "Δ harm"),
    (M::reviewer_hours, "Δ reviewer h"),
    (M::cost_per_release, "Δ cost/release"),
    (M::net_value, "Δ net value"),
];

/// Paired differences against the baseline for the key metrics: `Δ (95% CI) relative`.
pub fn comparison_table(run: &RunData, comps: &Comparisons) -> String {
    let valued = (run.points.iter()).any(|p| p.scenario.workload.classes.iter().any(|c| c.value > 0.0));
    let compare: Vec<&(M, &str)> = (COMPARE.iter())
        .filter(|(m, _)| *m != M::net_value || valued)
        .collect();
    let mut head = header(&run.dims, &["policy"]);
    head.extend(compare.iter().map(|(_, h)| h.to_string()));
    let mut rows = vec![head];
    for (pt, ps) in run.points.iter().zip(comps) {
        for (p, (pol, ms)) in pt.scenario.policies.iter().zip(ps).enumerate() {
            if p == run.baseline {
                continue;
            }
            let mut row = pt.values.clone();
            row.push(pol.name.clone());
            row.extend(compare.iter().map(|(m, _)| {
                let c = &ms[*m as usize];
                if !c.mean_diff.is_finite() {
                    return "–".to_string();
                }
                let d = decimals(c.mean_diff.abs().max(c.ci_high - c.ci_low));
                let rel = if c.relative_change.is_finite() {
                    format!(" {:+.0}%", 100.0 * c.relative_change)
                } else {
                    String::new()
                };
                if c.ci_low.is_finite() {
                    format!(
                        "{:+.d$} ({:+.d$} .. {:+.d$}){rel}",
                        c.mean_diff, c.ci_low, c.ci_high
                    )
                } else {
                    format!("{:+.d$}{rel}", c.mean_diff)
                }
            }));
            rows.push(row);
        }
    }
    align(&rows, run.dims.len() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_digits() {
        assert_eq!(sig3(38.2149), "38.2");
        assert_eq!(sig3(0.0123456), "0.0123");
        assert_eq!(sig3(12345.6), "12346");
        assert_eq!(mean_pm(240.0, 1e-7), "240 ± 0");
        assert_eq!(mean_pm(0.4612, 0.00429), "0.461 ± 0.004");
        assert_eq!(mean_pm(f64::NAN, 1.0), "–");
    }
}
