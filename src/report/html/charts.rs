//! The report's charts: inline SVG drawn with plotters, in the Okabe–Ito palette.

use plotters::prelude::*;

use super::svg::{figure, legend, legend_width, svg, with_interval, Area, Drawn, Mark};
use super::{Results, Stat};
use crate::metrics::SeriesRow;
use crate::report::table::sig3;

/// Okabe–Ito colour-blind-safe palette (Okabe & Ito 2008), black last.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(230, 159, 0),   // orange
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(240, 228, 66),  // yellow
    RGBColor(0, 0, 0),
];

pub(super) fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// A line of a sweep chart: label, colour index, (x, stat) points.
type SweepLine = (String, usize, Vec<(f64, Stat)>);

/// A padded axis range around `lo..hi` (never empty), from zero when `from_zero`.
pub(super) fn range(lo: f64, hi: f64, from_zero: bool) -> std::ops::Range<f64> {
    let (mut lo, mut hi) = if lo.is_finite() && hi.is_finite() {
        (lo, hi)
    } else {
        (0.0, 1.0)
    };
    if from_zero && lo > 0.0 {
        lo = 0.0;
    }
    if hi - lo < 1e-12 {
        if from_zero && hi == 0.0 {
            return 0.0..1.0;
        }
        let pad = if hi.abs() > 0.0 { hi.abs() * 0.1 } else { 1.0 };
        lo -= pad;
        hi += pad;
    }
    let pad = (hi - lo) * 0.08;
    (if from_zero && lo >= 0.0 { lo } else { lo - pad })..hi + pad
}

/// Axis labels: short and without trailing zeros (12k, 1.5M, 0.25).
pub(super) fn tick(x: &f64) -> String {
    let a = x.abs();
    let (v, suffix) = if a >= 1e6 {
        (x / 1e6, "M")
    } else if a >= 1e4 {
        (x / 1e3, "k")
    } else {
        (*x, "")
    };
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{}{suffix}", if s == "-0" { "0" } else { s })
}

/// A chart of `plot_w` × `height` pixels drawn by `draw`, with its legend in a column of its
/// own to the right, so that the legend never covers the data.
pub(super) fn legend_beside(
    plot_w: u32,
    height: u32,
    entries: &[(String, Mark, RGBColor)],
    font: u32,
    draw: impl FnOnce(&Area) -> Drawn,
) -> String {
    let side = legend_width(entries, font);
    svg(plot_w + side, height, |root| {
        let (plot, rest) = root.split_horizontally(plot_w);
        draw(&plot)?;
        legend(&rest, entries, font)
    })
}

/// A scatter of policies with 95% intervals on both axes, scaled to the data (the
/// intervals show how far apart the policies are).
pub(super) fn scatter(r: &Results, point: usize, x: (&str, &str), y: (&str, &str), title: &str) -> String {
    let pts: Vec<(usize, &String, Stat, Stat)> = r
        .policies
        .iter()
        .enumerate()
        .map(|(i, p)| (i, p, r.stat(point, p, x.0), r.stat(point, p, y.0)))
        .filter(|(_, _, a, b)| a.defined() && b.defined())
        .collect();
    let (xl, xh) = pts
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), (_, _, a, _)| {
            (l.min(a.bounds().0), h.max(a.bounds().1))
        });
    let (yl, yh) = pts
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), (_, _, _, b)| {
            (l.min(b.bounds().0), h.max(b.bounds().1))
        });
    let cell = |s: &Stat| with_interval(s.mean, s.bounds().0, s.bounds().1);
    let rows: Vec<Vec<String>> = (pts.iter())
        .map(|(_, p, a, b)| vec![p.to_string(), cell(a), cell(b)])
        .collect();
    let entries: Vec<_> = (pts.iter())
        .map(|(i, name, _, _)| (name.to_string(), Mark::Dot, colour(*i)))
        .collect();
    let chart = legend_beside(480, 380, &entries, 13, |root| {
        let mut c = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 17))
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(range(xl, xh, false), range(yl, yh, false))?;
        c.configure_mesh()
            .x_desc(x.1)
            .y_desc(y.1)
            .x_label_formatter(&tick)
            .y_label_formatter(&tick)
            .label_style(("sans-serif", 13))
            .axis_desc_style(("sans-serif", 14))
            .draw()?;
        for (i, _, a, b) in &pts {
            let col = colour(*i);
            let (x0, x1) = a.bounds();
            let (y0, y1) = b.bounds();
            c.draw_series([PathElement::new(
                vec![(x0, b.mean), (x1, b.mean)],
                col.stroke_width(2),
            )])?;
            c.draw_series([PathElement::new(
                vec![(a.mean, y0), (a.mean, y1)],
                col.stroke_width(2),
            )])?;
            c.draw_series([Circle::new((a.mean, b.mean), 6, col.filled())])?;
        }
        Ok(())
    });
    figure(title, chart, &["policy", x.1, y.1], &rows)
}

/// One bar per policy with its 95% interval; nothing when no policy has a value other
/// than zero (no empty charts).
pub(super) fn bars(r: &Results, point: usize, metric: &str, title: &str, unit: &str) -> String {
    let vals: Vec<Stat> = r.policies.iter().map(|p| r.stat(point, p, metric)).collect();
    if !vals.iter().any(|s| s.defined() && s.mean != 0.0) {
        return String::new();
    }
    let hi = vals
        .iter()
        .filter(|s| s.defined())
        .map(|s| s.bounds().1)
        .fold(0.0f64, f64::max);
    let n = r.policies.len();
    let width = (96 * n as u32 + 90).max(280);
    let rows: Vec<Vec<String>> = (r.policies.iter().zip(&vals))
        .filter(|(_, s)| s.defined())
        .map(|(p, s)| vec![p.clone(), with_interval(s.mean, s.bounds().0, s.bounds().1)])
        .collect();
    let chart = svg(width, 240, |root| {
        let mut c = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 15))
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(54)
            .build_cartesian_2d(-0.5f64..n as f64 - 0.5, range(0.0, hi, true))?;
        let names = r.policies.clone();
        c.configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&|x| names.get(x.round() as usize).cloned().unwrap_or_default())
            .y_desc(unit)
            .y_label_formatter(&tick)
            .label_style(("sans-serif", 11))
            .draw()?;
        for (i, s) in vals.iter().enumerate() {
            if !s.defined() {
                continue;
            }
            let x = i as f64;
            c.draw_series([Rectangle::new(
                [(x - 0.32, 0.0), (x + 0.32, s.mean)],
                colour(i).filled(),
            )])?;
            let (lo, hi) = s.bounds();
            c.draw_series([PathElement::new(vec![(x, lo), (x, hi)], BLACK.stroke_width(2))])?;
        }
        Ok(())
    });
    figure(title, chart, &["policy", unit], &rows)
}

/// A metric against the first swept path, one line per policy (and other swept values),
/// with its 95% interval as a band.
pub(super) fn sweep_chart(r: &Results, metric: &str, title: &str) -> String {
    let first: Vec<String> = r
        .points
        .iter()
        .map(|p| p[0].clone())
        .fold(Vec::new(), |mut v, x| {
            if !v.contains(&x) {
                v.push(x);
            }
            v
        });
    // Lines: (policy, values of the other dims) → points in order of the first dim.
    let mut lines: Vec<SweepLine> = Vec::new();
    for (pi, policy) in r.policies.iter().enumerate() {
        let mut others: Vec<Vec<String>> = Vec::new();
        for p in &r.points {
            if !others.contains(&p[1..].to_vec()) {
                others.push(p[1..].to_vec());
            }
        }
        for (oi, other) in others.iter().enumerate() {
            let mut pts = Vec::new();
            for (k, p) in r.points.iter().enumerate() {
                if p[1..] == other[..] {
                    let x = first.iter().position(|v| *v == p[0]).unwrap_or(0) as f64;
                    let s = r.stat(k, policy, metric);
                    if s.defined() {
                        pts.push((x, s));
                    }
                }
            }
            let label = if other.is_empty() {
                policy.clone()
            } else {
                format!(
                    "{policy} ({})",
                    r.dims[1..]
                        .iter()
                        .zip(other)
                        .map(|(d, v)| format!("{d}={v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            lines.push((label, pi * others.len() + oi, pts));
        }
    }
    let (lo, hi) = lines
        .iter()
        .flat_map(|l| l.2.iter())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), (_, s)| {
            (l.min(s.bounds().0), h.max(s.bounds().1))
        });
    let n = first.len();
    let rows: Vec<Vec<String>> = (lines.iter())
        .flat_map(|(label, _, pts)| {
            pts.iter().map(|(x, st)| {
                let at = first.get(*x as usize).cloned().unwrap_or_default();
                vec![
                    label.clone(),
                    at,
                    with_interval(st.mean, st.bounds().0, st.bounds().1),
                ]
            })
        })
        .collect();
    let entries: Vec<_> = (lines.iter())
        .map(|(label, ci, _)| (label.clone(), Mark::Line, colour(*ci)))
        .collect();
    let chart = legend_beside(480, 360, &entries, 12, |root| {
        let mut c = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 16))
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(-0.2f64..(n as f64 - 0.8).max(0.2), range(lo, hi, true))?;
        let labels = first.clone();
        c.configure_mesh()
            .x_labels(n)
            .x_label_formatter(&|x| {
                if (x - x.round()).abs() < 1e-6 {
                    labels.get(x.round() as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .x_desc(r.dims[0].as_str())
            .y_desc(metric)
            .y_label_formatter(&tick)
            .label_style(("sans-serif", 12))
            .draw()?;
        for (_, ci, pts) in &lines {
            let col = colour(*ci);
            if pts.len() > 1 {
                let mut band: Vec<(f64, f64)> = pts.iter().map(|(x, s)| (*x, s.bounds().1)).collect();
                band.extend(pts.iter().rev().map(|(x, s)| (*x, s.bounds().0)));
                c.draw_series([Polygon::new(band, col.mix(0.18).filled())])?;
            }
            c.draw_series(LineSeries::new(
                pts.iter().map(|(x, s)| (*x, s.mean)),
                col.stroke_width(2),
            ))?;
            c.draw_series(
                pts.iter()
                    .map(|(x, s)| Circle::new((*x, s.mean), 4, col.filled())),
            )?;
        }
        Ok(())
    });
    figure(title, chart, &["policy", r.dims[0].as_str(), metric], &rows)
}

/// A time-series column over time, one line per policy.
pub(super) fn series_chart(r: &Results, column: fn(&SeriesRow) -> f64, title: &str, unit: &str) -> String {
    let all: Vec<(f64, f64)> = r
        .series
        .values()
        .flatten()
        .map(|row| (row.t_end_h, column(row)))
        .filter(|(_, v)| v.is_finite())
        .collect();
    let (t0, t1) = all
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), (t, _)| {
            (l.min(*t), h.max(*t))
        });
    let (v0, v1) = all
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), (_, v)| {
            (l.min(*v), h.max(*v))
        });
    // One row per interval end: the day, then each policy's value.
    let shown: Vec<&String> = r.policies.iter().filter(|p| r.series.contains_key(*p)).collect();
    let times: Vec<f64> = shown.first().map_or(Vec::new(), |p| {
        r.series[*p].iter().map(|row| row.t_end_h).collect()
    });
    let rows: Vec<Vec<String>> = (times.iter().enumerate())
        .map(|(i, t)| {
            let values = shown
                .iter()
                .map(|p| r.series[*p].get(i).map_or(String::new(), |row| sig3(column(row))));
            std::iter::once(tick(&(t / 24.0))).chain(values).collect()
        })
        .collect();
    let head: Vec<&str> = std::iter::once("day")
        .chain(shown.iter().map(|p| p.as_str()))
        .collect();
    let entries: Vec<_> = (r.policies.iter().enumerate())
        .filter(|(_, p)| r.series.contains_key(*p))
        .map(|(i, p)| (p.clone(), Mark::Line, colour(i)))
        .collect();
    let chart = legend_beside(480, 300, &entries, 12, |root| {
        let mut c = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 16))
            .margin(14)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(range(t0 / 24.0, t1 / 24.0, false), range(v0, v1, true))?;
        c.configure_mesh()
            .x_desc("simulated time (days)")
            .y_desc(unit)
            .x_label_formatter(&tick)
            .y_label_formatter(&tick)
            .label_style(("sans-serif", 12))
            .draw()?;
        for (i, policy) in r.policies.iter().enumerate() {
            let Some(rows) = r.series.get(policy) else {
                continue;
            };
            let pts = rows
                .iter()
                .map(|row| (row.t_end_h / 24.0, column(row)))
                .filter(|(_, x)| x.is_finite());
            c.draw_series(LineSeries::new(pts, colour(i).stroke_width(2)))?;
        }
        Ok(())
    });
    figure(&format!("{title} ({unit})"), chart, &head, &rows)
}

/// The distribution of `metric` over replications, one step line per policy (an empirical
/// cumulative distribution): how often a month is worse than a given figure.
pub(super) fn ecdf(r: &Results, point: usize, metric: crate::metrics::M, title: &str, unit: &str) -> String {
    let lines: Vec<(usize, &String, Vec<f64>)> = (r.policies.iter().enumerate())
        .filter_map(|(i, p)| {
            let mut v: Vec<f64> = (r.reps.get(&(point, p.clone()))?.iter())
                .map(|row| row[metric])
                .filter(|x| x.is_finite())
                .collect();
            v.sort_by(f64::total_cmp);
            (!v.is_empty()).then_some((i, p, v))
        })
        .collect();
    if lines.is_empty() || lines.iter().all(|(_, _, v)| v.iter().all(|x| *x == 0.0)) {
        return String::new();
    }
    let (lo, hi) = (lines.iter())
        .flat_map(|(_, _, v)| [v[0], v[v.len() - 1]])
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| {
            (l.min(x), h.max(x))
        });
    let quantile = |v: &[f64], q: f64| v[((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
    let rows: Vec<Vec<String>> = (lines.iter())
        .map(|(_, p, v)| {
            vec![
                p.to_string(),
                sig3(quantile(v, 0.05)),
                sig3(quantile(v, 0.5)),
                sig3(quantile(v, 0.95)),
            ]
        })
        .collect();
    let entries: Vec<_> = (lines.iter())
        .map(|(i, p, _)| (p.to_string(), Mark::Line, colour(*i)))
        .collect();
    let chart = legend_beside(480, 320, &entries, 12, |root| {
        let mut c = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 16))
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(54)
            .build_cartesian_2d(range(lo, hi, false), 0.0f64..1.0)?;
        c.configure_mesh()
            .x_desc(unit)
            .y_desc("share of replications at or below")
            .x_label_formatter(&tick)
            .y_label_formatter(&tick)
            .label_style(("sans-serif", 12))
            .draw()?;
        for (i, _, v) in &lines {
            let n = v.len() as f64;
            let mut steps = Vec::with_capacity(2 * v.len());
            for (k, x) in v.iter().enumerate() {
                steps.push((*x, k as f64 / n));
                steps.push((*x, (k + 1) as f64 / n));
            }
            c.draw_series(LineSeries::new(steps, colour(*i).stroke_width(2)))?;
        }
        Ok(())
    });
    figure(
        &format!("{title} ({unit})"),
        chart,
        &["policy", "5th percentile", "median", "95th percentile"],
        &rows,
    )
}

/// Oversight cost (every cost besides harm: people, tooling, halts, waiting) against harm,
/// one point per policy with its intervals; a policy that
/// another beats on both (less cost and less harm, by the means) is dominated and drawn
/// hollow, and the table says which.
pub(super) fn pareto(r: &Results, point: usize, cost_unit: &str) -> String {
    let title = "Oversight cost and harm: the Pareto front";
    let pts: Vec<(usize, &String, Stat, Stat)> = (r.policies.iter().enumerate())
        .map(|(i, p)| (i, p, r.oversight_cost(point, p), r.stat(point, p, "harm")))
        .filter(|(_, _, a, b)| a.defined() && b.defined())
        .collect();
    if pts.len() < 2 {
        return String::new();
    }
    let dominated = |k: usize| {
        let (_, _, a, b) = &pts[k];
        pts.iter()
            .any(|(_, _, x, y)| x.mean <= a.mean && y.mean <= b.mean && (x.mean < a.mean || y.mean < b.mean))
    };
    let (xl, xh) = pts
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), (_, _, a, _)| {
            (l.min(a.bounds().0), h.max(a.bounds().1))
        });
    let (yl, yh) = pts
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), (_, _, _, b)| {
            (l.min(b.bounds().0), h.max(b.bounds().1))
        });
    let cell = |s: &Stat| with_interval(s.mean, s.bounds().0, s.bounds().1);
    let rows: Vec<Vec<String>> = (pts.iter().enumerate())
        .map(|(k, (_, p, a, b))| {
            vec![
                p.to_string(),
                cell(a),
                cell(b),
                if dominated(k) { "dominated" } else { "on the front" }.to_string(),
            ]
        })
        .collect();
    let entries: Vec<_> = (pts.iter().enumerate())
        .map(|(k, (i, name, _, _))| {
            let label = if dominated(k) {
                format!("{name} (dominated)")
            } else {
                name.to_string()
            };
            (label, Mark::Dot, colour(*i))
        })
        .collect();
    let x_desc = format!("cost besides harm ({cost_unit})");
    let chart = legend_beside(480, 380, &entries, 13, |root| {
        let mut c = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 15))
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(range(xl, xh, false), range(yl, yh, false))?;
        c.configure_mesh()
            .x_desc(x_desc.as_str())
            .y_desc("harm (units)")
            .x_label_formatter(&tick)
            .y_label_formatter(&tick)
            .label_style(("sans-serif", 13))
            .axis_desc_style(("sans-serif", 14))
            .draw()?;
        for (k, (i, _, a, b)) in pts.iter().enumerate() {
            let col = colour(*i);
            let (x0, x1) = a.bounds();
            let (y0, y1) = b.bounds();
            c.draw_series([PathElement::new(
                vec![(x0, b.mean), (x1, b.mean)],
                col.stroke_width(2),
            )])?;
            c.draw_series([PathElement::new(
                vec![(a.mean, y0), (a.mean, y1)],
                col.stroke_width(2),
            )])?;
            if dominated(k) {
                c.draw_series([Circle::new((a.mean, b.mean), 6, WHITE.filled())])?;
                c.draw_series([Circle::new((a.mean, b.mean), 6, col.stroke_width(2))])?;
            } else {
                c.draw_series([Circle::new((a.mean, b.mean), 6, col.filled())])?;
            }
        }
        Ok(())
    });
    figure(
        title,
        chart,
        &["policy", &x_desc, "harm (units)", "Pareto"],
        &rows,
    )
}
