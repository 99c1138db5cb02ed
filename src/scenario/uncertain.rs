//! `[uncertain]`: scenario keys whose values are not known, each with a distribution of
//! plausible values. `oversim explore` draws parameter sets from them; `oversim run` uses
//! the values written in the scenario.
//!
//! ```toml
//! [uncertain]
//! "policy.tiered.review.detect" = { dist = "uniform", low = 0.4, high = 0.8 }
//! "workload.rate" = { dist = "triangular", low = "20/h", mode = "40/h", high = "80/h" }
//! ```
//!
//! Keys are `--set` paths. Each distribution maps a point `u` of the unit interval to a
//! value by its quantile function, so a design of the unit cube (Sobol, Latin hypercube)
//! becomes a design of the inputs. Bounds may carry a unit (`"20/h"`, `"30m"`); the drawn
//! number is written back with the same unit. Bounds written as integers draw integers.

use serde::de::IntoDeserializer as _;
use serde::Deserialize;
use toml::de::DeValue;

use super::SweepValue;
use crate::input::{Ctx, S};

mod values;

/// One uncertain input: a `--set` path and the distribution of its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Uncertain {
    pub path: String,
    pub dist: InputDist,
    /// The unit every bound carries (`/h`, `m`), or empty for plain numbers.
    pub unit: String,
    /// Bounds written as integers: values are whole numbers.
    pub whole: bool,
    /// The entry's line in the file, for messages about the values it draws.
    pub line: Option<usize>,
}

/// A distribution of an input's value.
#[derive(Debug, Clone, PartialEq)]
pub enum InputDist {
    Uniform {
        low: f64,
        high: f64,
    },
    Triangular {
        low: f64,
        mode: f64,
        high: f64,
    },
    /// Beta on (0, 1) with this mean and standard deviation.
    Beta {
        mean: f64,
        sd: f64,
        a: f64,
        b: f64,
    },
    /// Lognormal with this mean and standard deviation (of the value, not its log).
    Lognormal {
        mean: f64,
        sd: f64,
        mu: f64,
        sigma: f64,
    },
    /// Each listed value equally likely.
    Choice {
        values: Vec<SweepValue>,
    },
}

/// The distributions `dist` may name, with the keys each takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DistTag {
    Uniform,
    Triangular,
    Beta,
    Lognormal,
    Choice,
}

impl DistTag {
    const ALL: &[(&str, DistTag)] = &[
        ("uniform", DistTag::Uniform),
        ("triangular", DistTag::Triangular),
        ("beta", DistTag::Beta),
        ("lognormal", DistTag::Lognormal),
        ("choice", DistTag::Choice),
    ];

    fn keys(self) -> &'static [&'static str] {
        match self {
            DistTag::Uniform => &["low", "high"],
            DistTag::Triangular => &["low", "mode", "high"],
            DistTag::Beta | DistTag::Lognormal => &["mean", "sd"],
            DistTag::Choice => &["values"],
        }
    }

    fn name(self) -> &'static str {
        DistTag::ALL
            .iter()
            .find(|(_, t)| *t == self)
            .map_or("?", |(n, _)| n)
    }
}

/// A bound as written: a number, or a number with a unit (`"20/h"`).
#[derive(Debug, Clone)]
struct Bound {
    value: f64,
    unit: String,
    integer: bool,
}

impl<'de> Deserialize<'de> for Bound {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Bound;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number, or a number with a unit such as \"20/h\" or \"30m\"")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Bound, E> {
                Ok(Bound {
                    value: v as f64,
                    unit: String::new(),
                    integer: true,
                })
            }
            fn visit_u64<E>(self, v: u64) -> Result<Bound, E> {
                Ok(Bound {
                    value: v as f64,
                    unit: String::new(),
                    integer: true,
                })
            }
            fn visit_f64<E>(self, v: f64) -> Result<Bound, E> {
                Ok(Bound {
                    value: v,
                    unit: String::new(),
                    integer: false,
                })
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Bound, E> {
                split_unit(s).ok_or_else(|| {
                    E::custom(format!(
                        "`{s}` is not a number with a unit such as \"20/h\" or \"30m\""
                    ))
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// `"20/h"` → 20 and `/h`; `"1.5h"` → 1.5 and `h`. The unit is the trailing run of
/// letters and `/`.
fn split_unit(s: &str) -> Option<Bound> {
    let t = s.trim();
    let split = t
        .trim_end_matches(|c: char| c.is_ascii_alphabetic() || c == '/' || c == ' ')
        .len();
    let (num, unit) = t.split_at(split);
    let ok = !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b));
    let value: f64 = num.parse().ok().filter(|v: &f64| v.is_finite() && ok)?;
    Some(Bound {
        value,
        unit: unit.trim().to_string(),
        integer: false,
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    dist: S<String>,
    low: Option<S<Bound>>,
    mode: Option<S<Bound>>,
    high: Option<S<Bound>>,
    mean: Option<S<Bound>>,
    sd: Option<S<Bound>>,
    values: Option<S<Vec<toml::Value>>>,
}

/// Keys every entry may have, for messages.
const ENTRY_KEYS: &str = "dist, low, mode, high, mean, sd, values";

/// Reads the `[uncertain]` table of the document (`None` if the file has none).
pub fn build(ctx: &mut Ctx, table: Option<&S<DeValue>>) -> Vec<Uncertain> {
    let Some(table) = table else {
        return Vec::new();
    };
    let DeValue::Table(entries) = table.get_ref() else {
        ctx.err(
            table.span(),
            "uncertain",
            "`uncertain` must be a table of \"PATH\" = { dist = ... } entries",
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, value) in entries {
        let path = key.get_ref().to_string();
        let at = format!("uncertain.\"{path}\"");
        if let Some(u) = entry(ctx, &path, &at, value) {
            out.push(u);
        }
    }
    out
}

fn entry(ctx: &mut Ctx, path: &str, at: &str, value: &S<DeValue>) -> Option<Uncertain> {
    let line = Some(ctx.line(value.span().start));
    if !may_be_uncertain(ctx, path, at, value) {
        return None;
    }
    let raw = read_entry(ctx, at, value)?;
    let tag = ctx.choice(&raw.dist, &format!("{at}.dist"), DistTag::ALL)?;
    if !keys_of_dist(ctx, at, value, tag, &raw) {
        return None;
    }
    let (unit, whole) = bounds_unit(ctx, at, &raw)?;
    let dist = input_dist(ctx, at, value, tag, &raw, &unit, whole)?;
    Some(Uncertain {
        path: path.to_string(),
        dist,
        unit,
        whole,
        line,
    })
}

/// Whether `value` at key path `path` may be an uncertain input: a table, at a key path
/// outside `[run]`, `[uncertain]` and `[sweep]`.
fn may_be_uncertain(ctx: &mut Ctx, path: &str, at: &str, value: &S<DeValue>) -> bool {
    if !matches!(value.get_ref(), DeValue::Table(_)) {
        ctx.err(
            value.span(),
            at,
            "an uncertain input is a table such as { dist = \"uniform\", low = 0.4, high = 0.8 }",
        );
        return false;
    }
    if path.is_empty() || path.split('.').any(str::is_empty) {
        ctx.err(
            value.span(),
            at,
            format!("`{path}` is not a key path (for example workload.rate)"),
        );
        return false;
    }
    if let Some(first) = ["run.", "uncertain.", "sweep."]
        .iter()
        .find(|p| path.starts_with(*p))
    {
        let what = first.trim_end_matches('.');
        ctx.err(
            value.span(),
            at,
            format!("`[{what}]` keys cannot be uncertain; uncertain inputs are keys of the workload, costs and policies"),
        );
        return false;
    }
    true
}

/// The entry's keys as written.
fn read_entry(ctx: &mut Ctx, at: &str, value: &S<DeValue>) -> Option<RawEntry> {
    match serde_path_to_error::deserialize(value.clone().into_deserializer()) {
        Ok(r) => Some(r),
        Err(e) => {
            let inner = e.into_inner();
            let message = crate::input::explain_serde_message(inner.message());
            let message = if !message.contains("allowed keys") && message.contains("unknown") {
                format!("{message}; an uncertain input takes: {ENTRY_KEYS}")
            } else {
                message
            };
            ctx.err(inner.span().unwrap_or(value.span()), at, message);
            None
        }
    }
}

/// Whether the entry gives exactly the keys its `dist` takes (a problem for each other).
fn keys_of_dist(ctx: &mut Ctx, at: &str, value: &S<DeValue>, tag: DistTag, raw: &RawEntry) -> bool {
    let given: [(&str, Option<std::ops::Range<usize>>); 6] = [
        ("low", raw.low.as_ref().map(S::span)),
        ("mode", raw.mode.as_ref().map(S::span)),
        ("high", raw.high.as_ref().map(S::span)),
        ("mean", raw.mean.as_ref().map(S::span)),
        ("sd", raw.sd.as_ref().map(S::span)),
        ("values", raw.values.as_ref().map(S::span)),
    ];
    let mut ok = true;
    for (key, span) in &given {
        let allowed = tag.keys().contains(key);
        match span {
            Some(span) if !allowed => {
                ctx.err(
                    span.clone(),
                    &format!("{at}.{key}"),
                    format!(
                        "`{key}` is not a key of a {} input; it takes: dist, {}",
                        tag.name(),
                        tag.keys().join(", ")
                    ),
                );
                ok = false;
            }
            None if allowed => {
                ctx.err(
                    value.span(),
                    at,
                    format!(
                        "a {} input needs `{key}` (it takes: dist, {})",
                        tag.name(),
                        tag.keys().join(", ")
                    ),
                );
                ok = false;
            }
            _ => {}
        }
    }
    ok
}

/// The bounds' one unit, and whether they are all whole numbers.
fn bounds_unit(ctx: &mut Ctx, at: &str, raw: &RawEntry) -> Option<(String, bool)> {
    let bounds: Vec<&S<Bound>> = [&raw.low, &raw.mode, &raw.high, &raw.mean, &raw.sd]
        .into_iter()
        .flatten()
        .collect();
    let unit = bounds.first().map_or(String::new(), |b| b.get_ref().unit.clone());
    if let Some(b) = bounds.iter().find(|b| b.get_ref().unit != unit) {
        ctx.err(
            b.span(),
            at,
            format!(
                "every bound must have the same unit; found `{}` and `{}`",
                show_unit(&unit),
                show_unit(&b.get_ref().unit)
            ),
        );
        return None;
    }
    if let Some(b) = bounds.iter().find(|b| !b.get_ref().value.is_finite()) {
        ctx.err(b.span(), at, "bounds must be finite numbers (not nan or inf)");
        return None;
    }
    let whole = !bounds.is_empty() && bounds.iter().all(|b| b.get_ref().integer);
    Some((unit, whole))
}

/// The input's distribution, its parameters checked.
fn input_dist(
    ctx: &mut Ctx,
    at: &str,
    value: &S<DeValue>,
    tag: DistTag,
    raw: &RawEntry,
    unit: &str,
    whole: bool,
) -> Option<InputDist> {
    let v = |b: &Option<S<Bound>>| b.as_ref().map_or(f64::NAN, |b| b.get_ref().value);
    let fail = |ctx: &mut Ctx, msg: String| {
        ctx.err(value.span(), at, msg);
        None
    };
    let dist = match tag {
        DistTag::Uniform => {
            let (low, high) = (v(&raw.low), v(&raw.high));
            if low >= high {
                return fail(ctx, format!("low ({low}) must be below high ({high})"));
            }
            InputDist::Uniform { low, high }
        }
        DistTag::Triangular => {
            let (low, mode, high) = (v(&raw.low), v(&raw.mode), v(&raw.high));
            if !(low < high && low <= mode && mode <= high) {
                return fail(
                    ctx,
                    format!("needs low < high and low ≤ mode ≤ high; got {low}, {mode}, {high}"),
                );
            }
            InputDist::Triangular { low, mode, high }
        }
        DistTag::Beta => {
            let (mean, sd) = (v(&raw.mean), v(&raw.sd));
            if !(mean > 0.0 && mean < 1.0 && sd > 0.0 && sd * sd < mean * (1.0 - mean)) {
                return fail(
                    ctx,
                    format!("a beta input needs 0 < mean < 1 and 0 < sd < √(mean·(1−mean)); got mean {mean}, sd {sd}"),
                );
            }
            if whole || !unit.is_empty() {
                return fail(ctx, "a beta input draws a probability in (0, 1): write mean and sd as decimals without a unit".into());
            }
            let k = mean * (1.0 - mean) / (sd * sd) - 1.0;
            InputDist::Beta {
                mean,
                sd,
                a: mean * k,
                b: (1.0 - mean) * k,
            }
        }
        DistTag::Lognormal => {
            let (mean, sd) = (v(&raw.mean), v(&raw.sd));
            if !(mean > 0.0 && sd > 0.0) {
                return fail(
                    ctx,
                    format!("a lognormal input needs mean > 0 and sd > 0; got mean {mean}, sd {sd}"),
                );
            }
            let s2 = libm::log(1.0 + (sd / mean).powi(2));
            InputDist::Lognormal {
                mean,
                sd,
                mu: libm::log(mean) - s2 / 2.0,
                sigma: s2.sqrt(),
            }
        }
        DistTag::Choice => {
            let values = raw.values.as_ref().map(S::get_ref).cloned().unwrap_or_default();
            if values.len() < 2 {
                return fail(
                    ctx,
                    "a choice input lists at least two values, e.g. values = [2, 3, 4]".into(),
                );
            }
            InputDist::Choice {
                values: values.iter().map(SweepValue::from_toml).collect(),
            }
        }
    };
    Some(dist)
}

fn show_unit(u: &str) -> &str {
    if u.is_empty() {
        "no unit"
    } else {
        u
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(dist: InputDist, unit: &str, whole: bool) -> Uncertain {
        Uncertain {
            path: "x".into(),
            dist,
            unit: unit.into(),
            whole,
            line: None,
        }
    }

    #[test]
    fn quantiles_match_closed_forms() {
        let t = input(
            InputDist::Triangular {
                low: 20.0,
                mode: 40.0,
                high: 80.0,
            },
            "/h",
            false,
        );
        // F(mode) = (mode − low)/(high − low) = 1/3.
        assert!((t.number(1.0 / 3.0).unwrap() - 40.0).abs() < 1e-9);
        assert_eq!(t.value(0.0).toml, "\"20.0/h\"");
        let k = 0.7 * 0.3 / 0.01 - 1.0;
        let b = input(
            InputDist::Beta {
                mean: 0.7,
                sd: 0.1,
                a: 0.7 * k,
                b: 0.3 * k,
            },
            "",
            false,
        );
        // The median of Beta(14, 6) is about 0.7068 (Kerman's approximation (a−1/3)/(a+b−2/3)).
        let med = b.number(0.5).unwrap();
        assert!(
            (med - (14.0 - 1.0 / 3.0) / (20.0 - 2.0 / 3.0)).abs() < 2e-3,
            "{med}"
        );
        let l = input(
            InputDist::Lognormal {
                mean: 1.0,
                sd: 0.5,
                mu: -0.5 * libm::log(1.25),
                sigma: libm::log(1.25).sqrt(),
            },
            "",
            false,
        );
        // The median of a lognormal is exp(mu).
        assert!((l.number(0.5).unwrap() - libm::exp(-0.5 * libm::log(1.25))).abs() < 1e-12);
    }

    #[test]
    fn whole_numbers_and_choices_are_equally_likely() {
        let w = input(InputDist::Uniform { low: 2.0, high: 4.0 }, "", true);
        let got: Vec<String> = (0..6).map(|i| w.value(i as f64 / 6.0).toml).collect();
        assert_eq!(got, ["2", "2", "3", "3", "4", "4"]);
        let c = input(
            InputDist::Choice {
                values: vec![
                    SweepValue::from_toml(&toml::Value::Integer(1)),
                    SweepValue::from_toml(&toml::Value::String("beta".into())),
                ],
            },
            "",
            false,
        );
        assert_eq!(c.value(0.49).toml, "1");
        assert_eq!(c.value(0.5).toml, "\"beta\"");
    }

    #[test]
    fn units_are_split_and_kept() {
        let b = split_unit("20/h").unwrap();
        assert_eq!((b.value, b.unit.as_str()), (20.0, "/h"));
        let b = split_unit("1.5h").unwrap();
        assert_eq!((b.value, b.unit.as_str()), (1.5, "h"));
        assert!(split_unit("fast").is_none());
        let u = input(
            InputDist::Uniform {
                low: 20.0,
                high: 80.0,
            },
            "/h",
            false,
        );
        assert_eq!(u.value(0.5).toml, "\"50.0/h\"");
        assert_eq!(u.value(0.5).label, "50.0/h");
    }
}
