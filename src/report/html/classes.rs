//! The per-class view (classes.csv): where each policy's harm comes from, class by class,
//! as a table and a stacked bar chart. A policy can look good overall while one class does
//! most of its harm.

use std::fmt::Write as _;

use plotters::prelude::*;

use super::charts::{colour, legend_beside, range, tick};
use super::svg::{figure, Mark};
use super::{esc, sig, Results};

/// The table and chart of harm by class at point `k`, or nothing without classes.csv.
pub(super) fn section(r: &Results, k: usize, at: &str) -> String {
    if r.classes.is_empty() {
        return String::new();
    }
    let mut h = format!("<h2>By class{at}</h2><table><tr><th>policy</th><th>class</th><th>actions</th><th>released</th><th>escaped</th><th>escapes / 1k releases</th><th>harm (units)</th><th>share of the policy's harm</th></tr>");
    for p in &r.policies {
        let total: f64 = (r.classes.iter())
            .filter_map(|c| r.class_mean(k, p, c))
            .map(|c| c.harm)
            .sum();
        for c in &r.classes {
            let Some(m) = r.class_mean(k, p, c) else {
                continue;
            };
            write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(p),
                esc(c),
                sig(m.actions),
                sig(m.released),
                sig(m.escaped),
                if m.released > 0.0 { sig(1000.0 * m.escaped / m.released) } else { "–".into() },
                sig(m.harm),
                if total > 0.0 { format!("{:.0}%", 100.0 * m.harm / total) } else { "–".into() }
            )
            .ok();
        }
    }
    h.push_str("</table><p class=\"note\">Means per replication over the measured window.</p>");
    let chart = harm_chart(r, k);
    if !chart.is_empty() {
        // In a row, as every chart: on a narrow screen it scrolls in place.
        h.push_str(&format!("<div class=\"row\">{chart}</div>"));
    }
    h
}

/// Means of one class's counts per replication.
pub(super) struct ClassMean {
    pub actions: f64,
    pub released: f64,
    pub escaped: f64,
    pub harm: f64,
}

impl Results {
    /// The mean per replication of class `class`'s counts under `policy` at point `k`.
    pub(super) fn class_mean(&self, k: usize, policy: &str, class: &str) -> Option<ClassMean> {
        let (t, n) = self
            .class_totals
            .get(&(k, policy.to_string(), class.to_string()))?;
        let n = *n as f64;
        Some(ClassMean {
            actions: t.actions as f64 / n,
            released: t.released as f64 / n,
            escaped: t.escaped as f64 / n,
            harm: t.harm / n,
        })
    }
}

/// Each policy's mean harm as a bar stacked by class.
fn harm_chart(r: &Results, k: usize) -> String {
    let title = "Harm by class";
    let stacks: Vec<Vec<f64>> = (r.policies.iter())
        .map(|p| {
            (r.classes.iter())
                .map(|c| r.class_mean(k, p, c).map_or(0.0, |m| m.harm))
                .collect()
        })
        .collect();
    let top = stacks.iter().map(|s| s.iter().sum::<f64>()).fold(0.0, f64::max);
    if top <= 0.0 {
        return String::new(); // no harm anywhere: no chart
    }
    let rows: Vec<Vec<String>> = (r.policies.iter().zip(&stacks))
        .flat_map(|(p, s)| (r.classes.iter().zip(s)).map(move |(c, x)| vec![p.clone(), c.clone(), sig(*x)]))
        .collect();
    let entries: Vec<_> = (r.classes.iter().enumerate())
        .map(|(i, c)| (c.clone(), Mark::Dot, colour(i)))
        .collect();
    let n = r.policies.len();
    let plot_w = (96 * n as u32 + 90).max(300);
    let chart = legend_beside(plot_w, 260, &entries, 12, |area| {
        let mut c = ChartBuilder::on(area)
            .caption(title, ("sans-serif", 15))
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(54)
            .build_cartesian_2d(-0.5f64..n as f64 - 0.5, range(0.0, top, true))?;
        let names = r.policies.clone();
        c.configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&|x| names.get(x.round() as usize).cloned().unwrap_or_default())
            .y_desc("harm (units)")
            .y_label_formatter(&tick)
            .label_style(("sans-serif", 11))
            .draw()?;
        for (i, s) in stacks.iter().enumerate() {
            let x = i as f64;
            let mut base = 0.0;
            for (ci, v) in s.iter().enumerate() {
                if *v > 0.0 {
                    c.draw_series([Rectangle::new(
                        [(x - 0.32, base), (x + 0.32, base + v)],
                        colour(ci).filled(),
                    )])?;
                }
                base += v;
            }
        }
        Ok(())
    });
    figure(title, chart, &["policy", "class", "harm"], &rows)
}
