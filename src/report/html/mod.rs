//! `oversim report DIR`: one self-contained HTML file (inline SVG charts drawn with
//! plotters, no JavaScript, no network) made only from the files in DIR: summary.csv,
//! comparison.csv, decision.csv, replications.csv, classes.csv, manifest.json and, when
//! present, timeseries.csv.

use std::collections::BTreeMap;
use std::fmt::Write as _;
#[cfg(feature = "native")]
use std::path::Path;

mod charts;
mod classes;
mod decision;
pub mod explore;
mod summary;
mod svg;

use charts::{bars, ecdf, pareto, scatter, series_chart, sweep_chart};
pub use summary::summary_sentences;
use summary::table;

use super::manifest::Manifest;
use super::rows::{self, ClassKey, ComparisonKey, ReplicationKey, SummaryKey};
use super::Comparison;
use crate::decision::{DecisionKey, DecisionRow};
use crate::metrics::{ClassResult, MetricRow, SeriesRow, M};
use crate::stats::Summary;

/// One summary row: a metric's mean and 95% interval for a (point, policy).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stat {
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
    /// The 95th percentile over replications (the tail).
    pub p95: f64,
}

impl Stat {
    fn defined(&self) -> bool {
        self.mean.is_finite()
    }
    /// Interval ends, falling back to the mean when there is no interval (n < 2).
    fn bounds(&self) -> (f64, f64) {
        (
            if self.lo.is_finite() { self.lo } else { self.mean },
            if self.hi.is_finite() { self.hi } else { self.mean },
        )
    }
}

/// A paired comparison row.
#[derive(Debug, Clone, Copy)]
pub struct Diff {
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
    pub rel: f64,
}

/// Everything the report is drawn from, read back from a results folder.
#[derive(Debug, Default)]
pub struct Results {
    pub dims: Vec<String>,
    /// Sweep points in file order (values of the dims).
    pub points: Vec<Vec<String>>,
    pub policies: Vec<String>,
    /// (point, policy, metric) → stat.
    pub summary: BTreeMap<(usize, String, String), Stat>,
    /// (point, policy, metric) → difference against the baseline.
    pub comparison: BTreeMap<(usize, String, String), Diff>,
    pub baseline: String,
    pub manifest: Option<Manifest>,
    /// policy → time-series rows, first point only.
    pub series: BTreeMap<String, Vec<SeriesRow>>,
    /// point → (policy, its decision.csv row), in the file's order.
    pub decision: BTreeMap<usize, Vec<(String, DecisionRow)>>,
    /// (point, policy) → every replication's metrics (replications.csv), in file order.
    pub reps: BTreeMap<(usize, String), Vec<MetricRow>>,
    /// Workload classes, in classes.csv's order.
    pub classes: Vec<String>,
    /// (point, policy, class) → the class's counts summed over replications, and how many
    /// replications they sum.
    pub class_totals: BTreeMap<(usize, String, String), (ClassResult, u64)>,
    /// The units of money and harm (decision.csv's unit, `[costs]`), e.g. "USD per 30d".
    pub money_unit: String,
}

impl Results {
    /// Reads a results folder written by `oversim run` or `oversim merge`.
    #[cfg(feature = "native")]
    pub fn load(dir: &Path) -> Result<Results, String> {
        let read = |name: &str| {
            std::fs::read(dir.join(name)).map_err(|e| format!("{}: {e}", dir.join(name).display()))
        };
        let manifest = std::fs::read_to_string(dir.join("manifest.json")).map_err(|e| {
            format!(
                "{}: not a results folder (cannot read manifest.json: {e})",
                dir.display()
            )
        })?;
        let r = Results::from_files(
            &manifest,
            &read("summary.csv")?,
            read("comparison.csv").ok().as_deref(),
            read("timeseries.csv").ok().as_deref(),
        );
        // Folders written before decision.csv existed have none.
        let r = match read("decision.csv") {
            Ok(bytes) => r.and_then(|r| r.with_decision(&bytes)),
            Err(_) => r,
        };
        let r = r.and_then(|r| r.with_details(&read("replications.csv")?, &read("classes.csv")?));
        r.map_err(|e| format!("{}: {e}", dir.display()))
    }

    /// Adds replications.csv's and classes.csv's rows: the distributions over
    /// replications and the per-class view.
    pub fn with_details(mut self, replications: &[u8], classes: &[u8]) -> Result<Results, String> {
        let (_, rows) = rows::read::<ReplicationKey, MetricRow>(replications)
            .map_err(|e| format!("replications.csv: {e}"))?;
        for (values, key, row) in rows {
            let point = self.point_index(&values);
            self.reps.entry((point, key.policy)).or_default().push(row);
        }
        let (_, rows) =
            rows::read::<ClassKey, ClassResult>(classes).map_err(|e| format!("classes.csv: {e}"))?;
        for (values, key, c) in rows {
            let point = self.point_index(&values);
            if !self.classes.contains(&key.class) {
                self.classes.push(key.class.clone());
            }
            let (t, n) = self
                .class_totals
                .entry((point, key.policy, key.class))
                .or_default();
            t.actions += c.actions;
            t.defects += c.defects;
            t.released += c.released;
            t.rejected += c.rejected;
            t.dropped += c.dropped;
            t.escaped += c.escaped;
            t.caught_late += c.caught_late;
            t.harm += c.harm;
            *n += 1;
        }
        Ok(self)
    }

    /// Adds decision.csv's rows.
    pub fn with_decision(mut self, bytes: &[u8]) -> Result<Results, String> {
        let (_, rows) =
            rows::read::<DecisionKey, DecisionRow>(bytes).map_err(|e| format!("decision.csv: {e}"))?;
        for (values, key, row) in rows {
            let point = self.point_index(&values);
            if self.money_unit.is_empty() && row.metric == "net_value" {
                self.money_unit = row.unit.clone();
            }
            self.decision.entry(point).or_default().push((key.policy, row));
        }
        Ok(self)
    }

    /// The report's data from the files' texts: manifest.json, summary.csv and, if there
    /// are any, comparison.csv and timeseries.csv.
    pub fn from_files(
        manifest: &str,
        summary: &[u8],
        comparison: Option<&[u8]>,
        timeseries: Option<&[u8]>,
    ) -> Result<Results, String> {
        let mut r = Results {
            manifest: Some(Manifest::from_json(manifest).map_err(|e| format!("manifest.json: {e}"))?),
            ..Results::default()
        };
        r.baseline = r
            .manifest
            .as_ref()
            .map(|m| m.baseline.clone())
            .unwrap_or_default();
        let (dims, rows) =
            rows::read::<SummaryKey, Summary>(summary).map_err(|e| format!("summary.csv: {e}"))?;
        r.dims = dims;
        for (values, key, s) in rows {
            let point = r.point_index(&values);
            if !r.policies.contains(&key.policy) {
                r.policies.push(key.policy.clone());
            }
            let stat = Stat {
                mean: s.mean,
                lo: s.ci_low,
                hi: s.ci_high,
                p95: s.p95,
            };
            r.summary.insert((point, key.policy, key.metric), stat);
        }
        if let Some(bytes) = comparison {
            let (_, rows) =
                rows::read::<ComparisonKey, Comparison>(bytes).map_err(|e| format!("comparison.csv: {e}"))?;
            for (values, key, c) in rows {
                let point = r.point_index(&values);
                let d = Diff {
                    mean: c.mean_diff,
                    lo: c.ci_low,
                    hi: c.ci_high,
                    rel: c.relative_change,
                };
                r.comparison.insert((point, key.policy, key.metric), d);
            }
        }
        if let Some(bytes) = timeseries {
            let (_, rows) =
                rows::read::<ReplicationKey, SeriesRow>(bytes).map_err(|e| format!("timeseries.csv: {e}"))?;
            let first_point = r.points.first().cloned().unwrap_or_default();
            for (values, key, row) in rows.into_iter().filter(|(v, _, _)| *v == first_point) {
                let _ = values;
                r.series.entry(key.policy).or_default().push(row);
            }
        }
        Ok(r)
    }

    fn point_index(&mut self, values: &[String]) -> usize {
        match self.points.iter().position(|p| p == values) {
            Some(i) => i,
            None => {
                self.points.push(values.to_vec());
                self.points.len() - 1
            }
        }
    }

    pub fn stat(&self, point: usize, policy: &str, metric: &str) -> Stat {
        self.summary
            .get(&(point, policy.to_string(), metric.to_string()))
            .copied()
            .unwrap_or(Stat {
                mean: f64::NAN,
                lo: f64::NAN,
                hi: f64::NAN,
                p95: f64::NAN,
            })
    }

    /// What running `policy` costs besides its harm (people, tooling, halts, waiting), per
    /// replication: its mean and 95% interval, from replications.csv.
    pub(super) fn oversight_cost(&self, point: usize, policy: &str) -> Stat {
        let Some(reps) = self.reps.get(&(point, policy.to_string())) else {
            return Stat {
                mean: f64::NAN,
                lo: f64::NAN,
                hi: f64::NAN,
                p95: f64::NAN,
            };
        };
        let s = crate::stats::summarize(reps.iter().map(|m| m[M::cost_total] - m[M::cost_harm]));
        Stat {
            mean: s.mean,
            lo: s.ci_low,
            hi: s.ci_high,
            p95: s.p95,
        }
    }

    fn point_label(&self, point: usize) -> String {
        self.dims
            .iter()
            .zip(&self.points[point])
            .map(|(d, v)| format!("{d} = {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Formats a number to three significant digits.
fn sig(x: f64) -> String {
    crate::report::table::sig3(x)
}

pub(super) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub(super) const STYLE: &str = "body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1180px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:.2em}
.row{display:flex;flex-wrap:wrap;gap:12px}.row svg{border:1px solid #eee}figure.chart{margin:0}figure.chart summary{font-size:.85em;color:#555;cursor:pointer}
table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}
pre{background:#f7f7f7;padding:1em;overflow:auto;font-size:.85em}.err{color:#b00}.note{color:#555;font-size:.9em}";

/// The report's findings: for the first (and a sweep's last) point the summary sentences,
/// the table and the trade-off and reviewer-load charts; a sweep's charts; the time series.
/// The browser lab shows this same HTML.
pub fn sections(r: &Results) -> String {
    let mut h = String::new();
    // Every point gets its verdict, summary and table; the first and a sweep's last point
    // get the charts too.
    let last = r.points.len().saturating_sub(1);
    for k in 0..r.points.len() {
        let at = if r.dims.is_empty() {
            String::new()
        } else {
            format!(" at {}", esc(&r.point_label(k)))
        };
        h.push_str(&decision::section(r, k, &at));
        write!(h, "<h2>Summary{at}</h2><ul>").ok();
        for s in summary_sentences(r, k) {
            write!(h, "<li>{s}</li>").ok();
        }
        write!(h, "</ul>{}", table(r, k)).ok();
        if k != 0 && k != last {
            continue;
        }
        let money = if r.money_unit.is_empty() {
            "money".to_string()
        } else {
            r.money_unit.clone()
        };
        write!(h, "<h2>The trade-off{at}</h2><div class=\"row\">").ok();
        h.push_str(&pareto(r, k, &money));
        h.push_str(&scatter(
            r,
            k,
            ("throughput_per_hour", "released per hour"),
            ("escape_rate", "escape rate (escaped / defects)"),
            "Throughput and escapes",
        ));
        h.push_str(&scatter(
            r,
            k,
            ("reviewer_hours", "reviewer hours"),
            ("harm", "harm (units)"),
            "Oversight effort and harm",
        ));
        h.push_str("</div>");
        write!(h, "<h2>The bad months{at}</h2><div class=\"row\">").ok();
        if r.used(k, "value_released") {
            h.push_str(&ecdf(r, k, M::net_value, "Net value over replications", &money));
        }
        h.push_str(&ecdf(r, k, M::harm, "Harm over replications", "harm units"));
        h.push_str("</div>");
        h.push_str(&classes::section(r, k, &at));
        let load = [
            bars(r, k, "reviewer_utilization", "Utilization", "busy / on duty"),
            bars(r, k, "mean_queue", "Mean review queue", "attempts"),
            bars(r, k, "p95_wait_min", "95th percentile review wait", "minutes"),
            bars(
                r,
                k,
                "latency_mean_min",
                "Mean latency, arrival to release",
                "minutes",
            ),
            bars(r, k, "timeouts", "Timeouts (rubber stamps)", "attempts"),
        ]
        .concat();
        if !load.is_empty() {
            write!(
                h,
                "<h2>Reviewer load and waiting{at}</h2><div class=\"row\">{load}</div>"
            )
            .ok();
        }
    }
    if !r.dims.is_empty() && r.points.len() > 1 {
        h.push_str("<h2>Across the sweep</h2><div class=\"row\">");
        if r.used(0, "value_released") {
            let title = format!("Net value ({})", r.money_unit);
            h.push_str(&sweep_chart(r, "net_value", &title));
        }
        let period = r
            .money_unit
            .split(" per ")
            .nth(1)
            .unwrap_or("horizon")
            .to_string();
        let cost = match r.currency() {
            "" => "Cost per release".to_string(),
            c => format!("Cost per release ({c} per release)"),
        };
        for (metric, title) in [
            ("escapes_per_1k", "Escapes per 1000 releases".to_string()),
            ("harm", format!("Harm (units per {period})")),
            ("reviewer_hours", format!("Reviewer hours on duty (per {period})")),
            ("cost_per_release", cost),
            ("throughput_per_hour", "Released per hour".to_string()),
            ("p95_wait_min", "95th percentile review wait (min)".to_string()),
            (
                "latency_mean_min",
                "Mean latency, arrival to release (min)".to_string(),
            ),
        ] {
            if r.points.iter().enumerate().any(|(k, _)| r.used(k, metric)) {
                h.push_str(&sweep_chart(r, metric, &title));
            }
        }
        h.push_str("</div>");
    }
    if !r.series.is_empty() {
        let at = if r.dims.is_empty() {
            String::new()
        } else {
            format!(" ({})", esc(&r.point_label(0)))
        };
        write!(h, "<h2>Over time: replication 0{at}</h2><div class=\"row\">").ok();
        h.push_str(&series_chart(
            r,
            |row| row.mean_queue,
            "Review queue length",
            "attempts waiting",
        ));
        h.push_str(&series_chart(
            r,
            |row| row.defect_prob,
            "Defect probability",
            "P(defective attempt)",
        ));
        h.push_str(&series_chart(
            r,
            |row| row.busy_reviewers,
            "Busy reviewers",
            "reviewers",
        ));
        h.push_str(&series_chart(
            r,
            |row| row.escapes as f64,
            "Escapes per interval",
            "escaped defects",
        ));
        h.push_str("</div>");
    }
    h
}

/// The whole report as one HTML document.
pub fn render(r: &Results) -> String {
    let m = r.manifest.as_ref();
    let name = m.map_or("oversim results", |m| m.scenario.name.as_str());
    let mut h = String::new();
    write!(h, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>oversim: {}</title><style>{STYLE}</style></head><body>", esc(name)).ok();
    write!(
        h,
        "<h1>oversim report: {}</h1><p>{}</p>",
        esc(name),
        esc(m.map_or("", |m| m.scenario.description.as_str()))
    )
    .ok();
    write!(
        h,
        "<p class=\"note\">{} replications per policy{}, seed {}, {} h measured after {} h warm-up; intervals are 95% Student-t confidence intervals over replications; differences are paired (common random numbers). {}</p>",
        m.map_or(0, |m| m.replications_done),
        if r.dims.is_empty() { String::new() } else { format!(" at each of {} sweep points", r.points.len()) },
        m.map_or(0, |m| m.seed),
        // As JSON writes a number (720.0), so the text reads as the manifest does.
        serde_json::json!(m.map_or(0.0, |m| m.horizon_hours)),
        serde_json::json!(m.map_or(0.0, |m| m.warmup_hours)),
        if m.is_some_and(|m| m.cut_short) { "<b>This run was cut short (see the manifest).</b>" } else { "" }
    )
    .ok();
    h.push_str(&sections(r));
    let scenario = m.map_or("", |m| m.scenario.resolved.as_str());
    write!(h, "<h2>Scenario</h2><pre>{}</pre>", esc(scenario)).ok();
    write!(
        h,
        "<details><summary>Manifest</summary><pre>{}</pre></details>",
        esc(m.map(Manifest::to_json).unwrap_or_default().trim_end())
    )
    .ok();
    writeln!(
        h,
        "<p class=\"note\">Made by oversim {} from the CSV files beside this report.</p></body></html>",
        esc(m.map_or("", |m| m.oversim_version.as_str()))
    )
    .ok();
    h
}

/// The report of the results folder `dir`, from its files.
#[cfg(feature = "native")]
pub fn render_folder(dir: &Path) -> Result<String, String> {
    let manifest = std::fs::read_to_string(dir.join("manifest.json"))
        .ok()
        .and_then(|t| Manifest::from_json(&t).ok());
    Ok(match manifest {
        Some(m) if m.exploration.is_some() => explore::render(&explore::ExploreResults::load(dir, m)?),
        _ => render(&Results::load(dir)?),
    })
}

/// Writes `dir/report-METRIC.html`: the exploration in `dir` re-read on `metric`; its
/// sentences.
#[cfg(feature = "native")]
pub fn write_on_metric(dir: &Path, metric: &str) -> Result<(std::path::PathBuf, Vec<String>), String> {
    crate::report::files::verify(dir, "manifest.json")?;
    let m = crate::explore::decision_metric(metric).map_err(|e| format!("--metric: {e}"))?;
    let manifest = std::fs::read_to_string(dir.join("manifest.json"))
        .map_err(|e| format!("{}/manifest.json: {e}", dir.display()))
        .and_then(|t| Manifest::from_json(&t))?;
    if manifest.exploration.is_none() {
        return Err(format!(
            "{}: --metric re-reads an exploration; this folder holds a run (its report shows every metric)",
            dir.display()
        ));
    }
    let r = explore::ExploreResults::load(dir, manifest)?.on_metric(m);
    let sentences = (r.manifest.exploration.as_ref()).map_or(Vec::new(), |i| i.sentences.clone());
    let name = format!("report-{}.html", m.name());
    crate::report::files::replace_file(dir, &name, explore::render(&r).as_bytes())?;
    Ok((dir.join(name), sentences))
}

/// Writes `dir/report.html` from the files of the complete results folder `dir`.
#[cfg(feature = "native")]
pub fn write(dir: &Path) -> Result<std::path::PathBuf, String> {
    crate::report::files::verify(dir, "manifest.json")?;
    let html = render_folder(dir)?;
    crate::report::files::replace_file(dir, "report.html", html.as_bytes())?;
    Ok(dir.join("report.html"))
}
