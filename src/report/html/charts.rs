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
    let pts: Vec<Dot> = (r.policies.iter().enumerate())
        .map(|(i, p)| Dot {
            colour: i,
            label: p.clone(),
            x: r.stat(point, p, x.0),
            y: r.stat(point, p, y.0),
            note: None,
        })
        .filter(|d| d.x.defined() && d.y.defined())
        .collect();
    dots(title, x.1, y.1, &pts)
}

/// A policy's point in a scatter; with a `note` (the Pareto chart's "dominated") it is
/// drawn hollow, the legend and the table say the note.
struct Dot {
    colour: usize,
    label: String,
    x: Stat,
    y: Stat,
    note: Option<&'static str>,
}

/// The scatter of `pts` with their 95% intervals, its legend beside it and its numbers
/// under it.
fn dots(title: &str, x_desc: &str, y_desc: &str, pts: &[Dot]) -> String {
    let span = |f: fn(&Dot) -> Stat| {
        pts.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), d| {
            (l.min(f(d).bounds().0), h.max(f(d).bounds().1))
        })
    };
    let ((xl, xh), (yl, yh)) = (span(|d| d.x), span(|d| d.y));
    let cell = |s: &Stat| with_interval(s.mean, s.bounds().0, s.bounds().1);
    let noted = pts.iter().any(|d| d.note.is_some());
    let rows: Vec<Vec<String>> = (pts.iter())
        .map(|d| {
            let mut row = vec![d.label.clone(), cell(&d.x), cell(&d.y)];
            if noted {
                row.push(d.note.unwrap_or("").to_string());
            }
            row
        })
        .collect();
    let entries: Vec<_> = (pts.iter())
        .map(|d| {
            let label = match d.note {
                Some(n) => format!("{} ({n})", d.label),
                None => d.label.clone(),
            };
            (label, Mark::Dot, colour(d.colour))
        })
        .collect();
    let chart = legend_beside(480, 380, &entries, 13, |root| {
        let mut c = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 17))
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(range(xl, xh, false), range(yl, yh, false))?;
        c.configure_mesh()
            .x_desc(x_desc)
            .y_desc(y_desc)
            .x_label_formatter(&tick)
            .y_label_formatter(&tick)
            .label_style(("sans-serif", 13))
            .axis_desc_style(("sans-serif", 14))
            .draw()?;
        for d in pts {
            let col = colour(d.colour);
            let ((x0, x1), (y0, y1)) = (d.x.bounds(), d.y.bounds());
            c.draw_series([PathElement::new(
                vec![(x0, d.y.mean), (x1, d.y.mean)],
                col.stroke_width(2),
            )])?;
            c.draw_series([PathElement::new(
                vec![(d.x.mean, y0), (d.x.mean, y1)],
                col.stroke_width(2),
            )])?;
            let at = (d.x.mean, d.y.mean);
            if d.note.is_some() {
                c.draw_series([Circle::new(at, 6, WHITE.filled())])?;
                c.draw_series([Circle::new(at, 6, col.stroke_width(2))])?;
            } else {
                c.draw_series([Circle::new(at, 6, col.filled())])?;
            }
        }
        Ok(())
    });
    let mut head = vec!["policy", x_desc, y_desc];
    if noted {
        head.push("Pareto");
    }
    figure(title, chart, &head, &rows)
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
    let rows: Vec<Vec<String>> = (lines.iter())
        .map(|(_, p, v)| {
            let q = crate::stats::quantiles(v.clone(), [0.05, 0.5, 0.95]);
            std::iter::once(p.to_string()).chain(q.map(sig3)).collect()
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
/// one point per policy with its intervals; a policy that another beats on both (less cost
/// and less harm, by the means) is dominated and drawn hollow, and the table says which.
pub(super) fn pareto(r: &Results, point: usize, cost_unit: &str) -> String {
    let mut pts: Vec<Dot> = (r.policies.iter().enumerate())
        .map(|(i, p)| Dot {
            colour: i,
            label: p.clone(),
            x: r.oversight_cost(point, p),
            y: r.stat(point, p, "harm"),
            note: None,
        })
        .filter(|d| d.x.defined() && d.y.defined())
        .collect();
    if pts.len() < 2 {
        return String::new();
    }
    let dominated: Vec<bool> = (pts.iter())
        .map(|a| {
            pts.iter().any(|b| {
                b.x.mean <= a.x.mean && b.y.mean <= a.y.mean && (b.x.mean < a.x.mean || b.y.mean < a.y.mean)
            })
        })
        .collect();
    for (d, dom) in pts.iter_mut().zip(dominated) {
        d.note = dom.then_some("dominated");
    }
    let x_desc = format!("cost besides harm ({cost_unit})");
    dots(
        "Oversight cost and harm: the Pareto front",
        &x_desc,
        "harm (units)",
        &pts,
    )
}
