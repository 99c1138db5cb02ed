//! The report of an exploration, made only from its folder: probability-of-best bars, a
//! tornado of what moves the difference between policies, the decision map as a heat map,
//! and the sentences `oversim explore` printed.

use std::fmt::Write as _;

use plotters::prelude::*;

use super::charts::{colour, range, tick};
use super::svg::{figure, svg, with_interval};
use super::{esc, STYLE};
use crate::explore::breakeven::{BreakEven, BreakEvenKey};
use crate::report::explore::{
    MapKey, MapRow, PairKey, PairRow, RobustnessKey, RobustnessRow, SensitivityKey, SensitivityRow,
};
use crate::report::manifest::Manifest;
use crate::report::table::sig3;

/// Everything the report is drawn from.
pub struct ExploreResults {
    pub manifest: Manifest,
    pub robustness: Vec<(RobustnessKey, RobustnessRow)>,
    pub pairwise: Vec<(PairKey, PairRow)>,
    pub sensitivity: Vec<(SensitivityKey, SensitivityRow)>,
    /// (axis values, key, row) of map.csv, and the axes' paths.
    pub map: Vec<(Vec<String>, MapKey, MapRow)>,
    pub map_dims: Vec<String>,
    /// breakeven.csv, when the exploration looked for break-evens.
    pub breakeven: Vec<(BreakEvenKey, BreakEven)>,
}

impl ExploreResults {
    /// Reads an exploration's folder (its manifest already read).
    #[cfg(feature = "native")]
    pub fn load(dir: &std::path::Path, manifest: Manifest) -> Result<ExploreResults, String> {
        let read = |name: &str| std::fs::read(dir.join(name)).ok();
        ExploreResults::from_files(
            manifest,
            read("robustness.csv").as_deref(),
            read("pairwise.csv").as_deref(),
            read("sensitivity.csv").as_deref(),
            read("map.csv").as_deref(),
            read("breakeven.csv").as_deref(),
        )
        .map_err(|e| format!("{}/{e}", dir.display()))
    }

    /// The report's data from the files' bytes (those an exploration wrote).
    pub fn from_files(
        manifest: Manifest,
        robustness: Option<&[u8]>,
        pairwise: Option<&[u8]>,
        sensitivity: Option<&[u8]>,
        map: Option<&[u8]>,
        breakeven: Option<&[u8]>,
    ) -> Result<ExploreResults, String> {
        type Read<K, V> = (Vec<String>, crate::report::rows::Rows<K, V>);
        fn read<K: serde::de::DeserializeOwned, V: serde::de::DeserializeOwned>(
            bytes: Option<&[u8]>,
            name: &str,
        ) -> Result<Read<K, V>, String> {
            match bytes {
                Some(b) => crate::report::rows::read::<K, V>(b).map_err(|e| format!("{name}: {e}")),
                None => Ok((Vec::new(), Vec::new())),
            }
        }
        let (_, robustness) = read::<RobustnessKey, RobustnessRow>(robustness, "robustness.csv")?;
        let (_, pairwise) = read::<PairKey, PairRow>(pairwise, "pairwise.csv")?;
        let (_, sensitivity) = read::<SensitivityKey, SensitivityRow>(sensitivity, "sensitivity.csv")?;
        let (map_dims, map) = read::<MapKey, MapRow>(map, "map.csv")?;
        let (_, breakeven) = read::<BreakEvenKey, BreakEven>(breakeven, "breakeven.csv")?;
        Ok(ExploreResults {
            breakeven: breakeven.into_iter().map(|(_, k, v)| (k, v)).collect(),
            manifest,
            robustness: robustness.into_iter().map(|(_, k, v)| (k, v)).collect(),
            pairwise: pairwise.into_iter().map(|(_, k, v)| (k, v)).collect(),
            sensitivity: sensitivity.into_iter().map(|(_, k, v)| (k, v)).collect(),
            map,
            map_dims,
        })
    }
}

impl ExploreResults {
    /// The exploration re-read on another decision metric (`oversim report DIR --metric M`):
    /// its charts and tornadoes on `metric`, and sentences made from the files (robustness,
    /// pairwise and sensitivity rows hold every metric), without running anything.
    pub fn on_metric(mut self, metric: crate::metrics::M) -> ExploreResults {
        use crate::explore::analysis::{how_often, num, pct};
        let name = metric.name();
        let mut said = Vec::new();
        let mut best: Vec<&(RobustnessKey, RobustnessRow)> =
            self.robustness.iter().filter(|(k, _)| k.metric == name).collect();
        best.sort_by(|a, b| b.1.p_best.total_cmp(&a.1.p_best));
        if let Some((k, v)) = best.first() {
            said.push(format!(
                "Across the uncertainty ({} draws), `{}` is best on {name} ({} is better) in {} (re-read from robustness.csv).",
                v.draws,
                k.policy,
                k.direction,
                how_often(v.p_best, v.p_best_low, v.p_best_high, v.draws)
            ));
        }
        let baseline = self.manifest.baseline.clone();
        for (k, v) in self
            .pairwise
            .iter()
            .filter(|(k, _)| k.metric == name && k.versus == baseline)
        {
            said.push(format!(
                "`{}` beats `{baseline}` on {name} in {}; the difference ranges from {} to {} (5% to 95% of draws).",
                k.policy,
                how_often(v.p_beats, v.p_beats_low, v.p_beats_high, v.draws),
                num(v.difference_p05),
                num(v.difference_p95)
            ));
            let mut moves: Vec<&(SensitivityKey, SensitivityRow)> = (self.sensitivity.iter())
                .filter(|(s, _)| s.metric == name && s.output == "difference" && s.policy == k.policy)
                .collect();
            moves.sort_by(|a, b| b.1.total_order.total_cmp(&a.1.total_order));
            let top: Vec<String> = (moves.iter().take(3))
                .map(|(s, r)| {
                    format!(
                        "{} (total index {:.2}, {})",
                        s.input,
                        r.total_order,
                        direction(r.correlation)
                    )
                })
                .collect();
            if let Some((_, r)) = moves.first() {
                said.push(format!(
                    "What moves `{}` − `{baseline}` on {name} most: {}. Replication noise is {} of its variance.",
                    k.policy,
                    top.join("; "),
                    pct(r.noise_share)
                ));
            }
        }
        if let Some(info) = self.manifest.exploration.as_mut() {
            info.spec.metric = name.to_string();
            info.sentences = said;
        }
        self
    }
}

/// The HTML page.
pub fn render(r: &ExploreResults) -> String {
    let m = &r.manifest;
    let mut h = String::new();
    write!(h, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>oversim exploration: {0}</title><style>{STYLE}</style></head><body><h1>oversim exploration: {0}</h1><p>{1}</p>", esc(&m.scenario.name), esc(&m.scenario.description)).ok();
    h.push_str(&sections(r));
    h.push_str("</body></html>\n");
    h
}

/// The report's findings: the design, the inputs, the sentences, P(best), the tornadoes and
/// the map. The browser lab shows this same HTML.
pub fn sections(r: &ExploreResults) -> String {
    let m = &r.manifest;
    let info = m.exploration.as_ref();
    let metric = info.map_or("net_value", |i| i.spec.metric.as_str());
    let mut h = String::new();
    if let Some(i) = info {
        let design = match &i.spec.map {
            None => format!("{} design, {} points", i.spec.design.name(), i.spec.points),
            Some(map) => format!(
                "a decision map over {}, the other inputs {}",
                map.paths.join(" and "),
                match map.others {
                    crate::explore::Others::Base => "at their written values".to_string(),
                    crate::explore::Others::Integrate =>
                        format!("over {} Latin hypercube draws per cell", i.spec.points),
                }
            ),
        };
        write!(
            h,
            "<p class=\"note\">{} sets ({}), {} replications per set and policy, seed {}; every set and policy uses the same replication streams (common random numbers).</p><h2>Uncertain inputs</h2><table><tr><th>input</th><th>distribution</th></tr>",
            i.sets,
            esc(&design),
            m.replications_done,
            m.seed
        )
        .ok();
        for u in &i.inputs {
            write!(
                h,
                "<tr><td>{}</td><td>{}</td></tr>",
                esc(&u.path),
                esc(&u.distribution)
            )
            .ok();
        }
        h.push_str("</table><h2>What the exploration says</h2><ul>");
        for s in &i.sentences {
            write!(h, "<li>{}</li>", esc(s)).ok();
        }
        h.push_str("</ul>");
    }
    let best: Vec<&(RobustnessKey, RobustnessRow)> =
        r.robustness.iter().filter(|(k, _)| k.metric == metric).collect();
    if !best.is_empty() {
        write!(
            h,
            "<h2>Probability of being best on {}</h2><div class=\"row\">{}</div>",
            esc(metric),
            p_best_chart(&best, metric)
        )
        .ok();
    }
    let diffs: Vec<&(SensitivityKey, SensitivityRow)> = (r.sensitivity.iter())
        .filter(|(k, _)| k.metric == metric && k.output == "difference")
        .collect();
    let mut seen: Vec<&str> = Vec::new();
    for (k, _) in &diffs {
        if !seen.contains(&k.policy.as_str()) {
            seen.push(&k.policy);
        }
    }
    for p in seen {
        let rows: Vec<&(SensitivityKey, SensitivityRow)> =
            diffs.iter().copied().filter(|(k, _)| k.policy == p).collect();
        let title = format!("{p} − {}: total-order index on {metric}", rows[0].0.baseline);
        write!(h, "<h2>What moves {} − {}</h2><div class=\"row\">{}</div><p class=\"note\">Bars: total-order index (share of the difference's variance over the design due to the input, interactions included), with its 95% bootstrap interval; dots: first-order index; (↑) a higher value of the input raises the difference, (↓) lowers it, (·) no steady direction. Replication noise: {:.0}% of the variance.</p>", esc(p), esc(&rows[0].0.baseline), tornado(&rows, &title), 100.0 * rows[0].1.noise_share).ok();
    }
    if !r.breakeven.is_empty() {
        h.push_str("<h2>Break-evens</h2><p class=\"note\">Each input alone, the others at their written values: where the choice between the pair flips, with the range where the paired difference's 95% interval contains zero (breakeven.csv; the differences at each value are in breakeven-points.csv).</p><table><tr><th>input</th><th>finding</th><th>flips at (95% interval)</th><th>better below</th></tr>");
        for (k, v) in &r.breakeven {
            let at = match v.finding.as_str() {
                "flips" => format!(
                    "{}{u} ({}{u} – {}{u})",
                    sig3(v.flips_at),
                    sig3(v.ci_low),
                    sig3(v.ci_high),
                    u = v.unit
                ),
                _ => format!("{}{u} to {}{u} searched", sig3(v.low), sig3(v.high), u = v.unit),
            };
            write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&k.input),
                esc(&v.finding),
                esc(&at),
                esc(&v.better_below)
            )
            .ok();
        }
        h.push_str("</table><ul>");
        for (k, v) in &r.breakeven {
            write!(h, "<li>{}</li>", esc(&crate::explore::breakeven::sentence(k, v))).ok();
        }
        h.push_str("</ul>");
    }
    if !r.map.is_empty() {
        write!(
            h,
            "<h2>Decision map on {}</h2><div class=\"row\">{}</div>",
            esc(metric),
            heat_map(r)
        )
        .ok();
    }
    h
}

fn p_best_chart(rows: &[&(RobustnessKey, RobustnessRow)], metric: &str) -> String {
    let n = rows.len();
    let title = format!("P(best on {metric}) across the uncertainty");
    let table: Vec<Vec<String>> = (rows.iter())
        .map(|(k, v)| {
            vec![
                k.policy.clone(),
                with_interval(v.p_best, v.p_best_low, v.p_best_high),
            ]
        })
        .collect();
    let chart = svg(520, 60 + 34 * n as u32, |root| {
        let mut c = ChartBuilder::on(root)
            .caption(&title, ("sans-serif", 15))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(120)
            .build_cartesian_2d(0.0f64..1.0, -0.5f64..n as f64 - 0.5)?;
        let names: Vec<String> = rows.iter().map(|(k, _)| k.policy.clone()).collect();
        c.configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .y_label_formatter(&|y| names.get(y.round() as usize).cloned().unwrap_or_default())
            .x_label_formatter(&tick)
            .label_style(("sans-serif", 11))
            .draw()?;
        for (i, (_, v)) in rows.iter().enumerate() {
            let y = i as f64;
            c.draw_series([Rectangle::new(
                [(0.0, y - 0.3), (v.p_best, y + 0.3)],
                colour(i).filled(),
            )])?;
            c.draw_series([PathElement::new(
                vec![(v.p_best_low, y), (v.p_best_high, y)],
                BLACK.stroke_width(2),
            )])?;
        }
        Ok(())
    });
    figure(&title, chart, &["policy", "P(best) (exact 95% interval)"], &table)
}

fn tornado(rows: &[&(SensitivityKey, SensitivityRow)], title: &str) -> String {
    let mut rows = rows.to_vec();
    rows.sort_by(|a, b| a.1.total_order.total_cmp(&b.1.total_order));
    let n = rows.len();
    let hi = rows
        .iter()
        .map(|(_, v)| v.total_high.max(v.first_high))
        .fold(0.0f64, f64::max)
        .max(0.05);
    let lo = rows
        .iter()
        .map(|(_, v)| v.first_low.min(v.total_low))
        .fold(0.0f64, f64::min);
    // An interval outside [0, 1] says the design was too small, not where the index is.
    let shown = |est: f64, lo: f64, hi: f64, v: &SensitivityRow| match v.points_needed {
        0 => with_interval(est, lo, hi),
        n => format!("{} (too few points: about {n} would do)", sig3(est)),
    };
    let table: Vec<Vec<String>> = (rows.iter().rev())
        .map(|(k, v)| {
            vec![
                k.input.clone(),
                direction(v.correlation).to_string(),
                shown(v.total_order, v.total_low, v.total_high, v),
                shown(v.first_order, v.first_low, v.first_high, v),
            ]
        })
        .collect();
    let chart = svg(760, 60 + 30 * n as u32, |root| {
        let mut c = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 15))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(300)
            .build_cartesian_2d(range(lo, hi, true), -0.5f64..n as f64 - 0.5)?;
        let names: Vec<String> = (rows.iter())
            .map(|(k, v)| format!("{} {}", k.input, arrow(v.correlation)))
            .collect();
        c.configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .y_label_formatter(&|y| names.get(y.round() as usize).cloned().unwrap_or_default())
            .x_label_formatter(&tick)
            .label_style(("sans-serif", 11))
            .draw()?;
        for (i, (_, v)) in rows.iter().enumerate() {
            let y = i as f64;
            c.draw_series([Rectangle::new(
                [(0.0, y - 0.3), (v.total_order.max(0.0), y + 0.3)],
                colour(0).filled(),
            )])?;
            c.draw_series([PathElement::new(
                vec![(v.total_low, y), (v.total_high, y)],
                BLACK.stroke_width(2),
            )])?;
            c.draw_series([Circle::new((v.first_order, y), 4, colour(1).filled())])?;
        }
        Ok(())
    });
    figure(
        title,
        chart,
        &[
            "input",
            "effect of a higher value",
            "total-order index (95% interval)",
            "first-order index (95% interval)",
        ],
        &table,
    )
}

/// The direction of an input's effect, from its correlation with the output.
fn direction(correlation: f64) -> &'static str {
    match correlation {
        c if c > 0.1 => "raises it",
        c if c < -0.1 => "lowers it",
        _ => "no steady direction",
    }
}

fn arrow(correlation: f64) -> &'static str {
    match correlation {
        c if c > 0.1 => "(↑)",
        c if c < -0.1 => "(↓)",
        _ => "(·)",
    }
}

fn heat_map(r: &ExploreResults) -> String {
    let xs: Vec<String> = unique(r.map.iter().map(|(v, _, _)| v[0].clone()));
    let ys: Vec<String> = unique(r.map.iter().map(|(v, _, _)| v[1].clone()));
    // Colours by the policies' order in the scenario, as in every other chart.
    let policies: Vec<String> = r.manifest.policies.clone();
    let (w, hgt) = (40 + 70 * xs.len() as u32 + 260, 90 + 34 * ys.len() as u32);
    let dims = r.map_dims.clone();
    let title = "best policy per cell (grey: too close to call)";
    let table: Vec<Vec<String>> = (r.map.iter())
        .map(|(v, _, row)| {
            let verdict = match row.verdict.as_str() {
                "best" => row.best.clone(),
                other => format!("{other}: {} or {}", row.best, row.runner_up),
            };
            let diff = with_interval(row.difference, row.difference_low, row.difference_high);
            vec![v[0].clone(), v[1].clone(), verdict, row.runner_up.clone(), diff]
        })
        .collect();
    let head = [
        dims.first().map_or("x", String::as_str),
        dims.get(1).map_or("y", String::as_str),
        "best",
        "runner-up",
        "best − runner-up (95% interval)",
    ];
    let chart = svg(w.max(520), hgt, |root| {
        let (chart_area, legend) = root.split_horizontally(w.max(520) - 240);
        let mut c = ChartBuilder::on(&chart_area)
            .caption(title, ("sans-serif", 15))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(90)
            .build_cartesian_2d(-0.5f64..xs.len() as f64 - 0.5, -0.5f64..ys.len() as f64 - 0.5)?;
        let (xl, yl) = (xs.clone(), ys.clone());
        c.configure_mesh()
            .disable_mesh()
            .x_labels(xs.len())
            .y_labels(ys.len())
            .x_label_formatter(&|x| short(xl.get(x.round() as usize)))
            .y_label_formatter(&|y| short(yl.get(y.round() as usize)))
            .x_desc(dims.first().cloned().unwrap_or_default())
            .y_desc(dims.get(1).cloned().unwrap_or_default())
            .label_style(("sans-serif", 10))
            .draw()?;
        for (v, _, row) in &r.map {
            let x = xs.iter().position(|a| *a == v[0]).unwrap_or(0) as f64;
            let y = ys.iter().position(|a| *a == v[1]).unwrap_or(0) as f64;
            let p = policies.iter().position(|p| *p == row.best).unwrap_or(0);
            let fill = if row.verdict == "best" {
                colour(p).filled()
            } else {
                RGBColor(200, 200, 200).filled()
            };
            c.draw_series([Rectangle::new([(x - 0.48, y - 0.48), (x + 0.48, y + 0.48)], fill)])?;
        }
        for (i, p) in policies.iter().enumerate() {
            let y = 40 + 22 * i as i32;
            legend.draw(&Rectangle::new([(10, y), (26, y + 14)], colour(i).filled()))?;
            legend.draw(&Text::new(p.clone(), (32, y + 1), ("sans-serif", 12)))?;
        }
        let y = 40 + 22 * policies.len() as i32;
        legend.draw(&Rectangle::new(
            [(10, y), (26, y + 14)],
            RGBColor(200, 200, 200).filled(),
        ))?;
        legend.draw(&Text::new("too close to call", (32, y + 1), ("sans-serif", 12)))?;
        Ok(())
    });
    figure(title, chart, &head, &table)
}

fn unique(it: impl Iterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for x in it {
        if !v.contains(&x) {
            v.push(x);
        }
    }
    v
}

/// A short axis label: numbers to 3 significant digits, keeping the unit.
fn short(s: Option<&String>) -> String {
    let Some(s) = s else { return String::new() };
    let split = s
        .trim_end_matches(|c: char| c.is_ascii_alphabetic() || c == '/')
        .len();
    let (num, unit) = s.split_at(split);
    match num.parse::<f64>() {
        Ok(x) => format!("{}{unit}", tick(&x)),
        Err(_) => s.clone(),
    }
}
