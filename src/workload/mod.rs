//! The AI agent's workload: what `[workload]` says (rate, daily profile, classes, rework,
//! drift, learning), checked; `draws` turns it into arrivals and per-action draws
//! ([`Arrivals`], [`Actions`]).

mod draws;
mod drift;

pub use draws::{Actions, Arrivals};
pub use drift::{Drift, RawDrift};

use std::collections::{BTreeMap, HashSet};
use std::ops::Range;

use serde::Deserialize;

use crate::dist::{Dist, RawDist};
use crate::input::{limits, unknown, Ctx, Num, S};
use crate::units::parse_rate;

#[derive(Debug, Clone)]
pub struct Workload {
    /// Base arrival rate, actions per hour.
    pub rate: f64,
    /// Hourly multipliers of the rate: 24 repeating daily, or 168 repeating weekly from
    /// Monday 00:00 (time 0).
    pub profile: Option<Vec<f64>>,
    pub classes: Vec<Class>,
    pub rework: Option<Rework>,
    pub drift: Option<Drift>,
    /// Correlation r of detection across layers (latent difficulty), in [0, 1): each
    /// detecting stage loads √r on the difficulty unless it sets its own `difficulty_loading`.
    pub detection_correlation: f64,
    /// How the agent's own errors follow the latent difficulty, in [-1, 1]: with λ > 0 the
    /// agent errs more on hard actions, the ones layers with a positive loading miss.
    pub defect_loading: f64,
    /// The share of each class's defect rate that no root-cause fix removes.
    pub learning_floor: f64,
    /// Names of the defect kinds (`[[workload.defect_kind]]`); one kind, [`ONE_KIND`],
    /// when none are declared.
    pub kinds: Vec<String>,
    /// What happens to actions that arrive while the work is halted.
    pub on_halt: OnHalt,
    /// The probability that an escape comes to light after release by itself (a
    /// complaint, an incident report), in every policy alike.
    pub found_later: f64,
}

/// What happens to actions that arrive while a monitor has halted the work
/// (`workload.on_halt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnHalt {
    /// They wait and are done when the halt ends (a backlog: their delay counts).
    #[default]
    Wait,
    /// They are never done (their value is forgone).
    Lost,
}

impl OnHalt {
    /// Every value with the word that selects it.
    pub const ALL: &'static [(&'static str, OnHalt)] = &[("wait", OnHalt::Wait), ("lost", OnHalt::Lost)];
}

/// The name of the one defect kind of a workload that declares none.
pub const ONE_KIND: &str = "all";

impl Workload {
    /// Long-run mean arrival rate, actions per hour.
    pub fn mean_rate(&self) -> f64 {
        match &self.profile {
            Some(p) => self.rate * p.iter().sum::<f64>() / p.len() as f64,
            None => self.rate,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Class {
    pub name: String,
    pub share: f64,
    pub defect_prob: f64,
    /// Harm of a released defect (a weight, or money with `costs.harm_unit`).
    pub harm: f64,
    /// Money each released action of the class is worth.
    pub value: f64,
    /// A defect of this class is severe: its escapes are counted apart (the tail).
    pub severe: bool,
    /// Root causes of the class's fixable defects, each with an equal share (learning).
    pub root_causes: u32,
    /// Share of each defect kind among the class's defects (by kind index; sums to 1).
    pub kind_shares: Vec<f64>,
    /// The duty that requires a person to review each of the class's actions before its
    /// release (`"GDPR Art. 22"`): a policy that releases one unreviewed breaks it.
    pub duty: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Rework {
    pub delay: Dist,
    /// Attempts in all, including the first.
    pub max_attempts: u32,
}

/// Root causes per class when a class does not say (an assumption: see docs/model.md).
pub const DEFAULT_ROOT_CAUSES: u32 = 10;

/// `[workload]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorkload {
    pub rate: S<String>,
    pub profile: Option<S<RawProfile>>,
    pub detection_correlation: Option<S<Num>>,
    pub defect_loading: Option<S<Num>>,
    pub learning_floor: Option<S<Num>>,
    #[serde(default)]
    pub class: Vec<S<RawClass>>,
    #[serde(default)]
    pub defect_kind: Vec<S<RawDefectKind>>,
    pub rework: Option<S<RawRework>>,
    pub drift: Option<S<RawDrift>>,
    pub on_halt: Option<S<String>>,
    pub found_later: Option<S<Num>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClass {
    pub name: S<String>,
    pub share: S<Num>,
    pub defect_prob: S<Num>,
    pub harm: Option<S<Num>>,
    pub value: Option<S<Num>>,
    pub severe: Option<S<bool>>,
    pub root_causes: Option<S<i64>>,
    pub kinds: Option<S<BTreeMap<String, S<Num>>>>,
    pub duty: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDefectKind {
    pub name: S<String>,
    pub share: S<Num>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRework {
    pub delay: S<RawDist>,
    pub max_attempts: S<i64>,
}

impl Workload {
    /// Checks `[workload]`; problems go to `ctx`.
    pub fn parse(ctx: &mut Ctx, w: S<RawWorkload>) -> Workload {
        let span = w.span();
        let w = w.into_inner();
        let rate = match parse_rate(w.rate.get_ref()) {
            Ok(r) => r,
            Err(e) => {
                ctx.err(w.rate.span(), "workload.rate", e);
                1.0
            }
        };
        let profile = w.profile.map(|p| parse_profile(ctx, p));
        let (classes, kinds) = parse_classes(ctx, &span, &w.class, &w.defect_kind);
        let detection_correlation = w.detection_correlation.as_ref().map_or(0.0, |v| {
            ctx.range(
                v,
                "workload.detection_correlation",
                0.0,
                0.999_999,
                "a correlation in [0, 1)",
            )
        });
        let defect_loading = w.defect_loading.as_ref().map_or(0.0, |v| {
            ctx.range(
                v,
                "workload.defect_loading",
                -1.0,
                1.0,
                "a loading in [-1, 1] of the agent's errors on the latent difficulty",
            )
        });
        let learning_floor = w
            .learning_floor
            .as_ref()
            .map_or(0.2, |v| ctx.prob(v, "workload.learning_floor"));
        let drift = w.drift.map(|d| Drift::parse(ctx, d.into_inner()));
        let rework = w.rework.map(|r| {
            let r = r.into_inner();
            Rework {
                delay: Dist::parse(ctx, &r.delay, "workload.rework.delay", true),
                max_attempts: ctx.int(
                    &r.max_attempts,
                    "workload.rework.max_attempts",
                    1,
                    limits::MAX_ATTEMPTS,
                ) as u32,
            }
        });
        let on_halt = (w.on_halt.as_ref())
            .and_then(|v| ctx.choice(v, "workload.on_halt", OnHalt::ALL))
            .unwrap_or_default();
        let found_later = ctx.opt_prob(&w.found_later, "workload.found_later", 0.0);
        Workload {
            on_halt,
            found_later,
            rate,
            profile,
            classes,
            rework,
            drift,
            detection_correlation,
            defect_loading,
            learning_floor,
            kinds,
        }
    }
}

/// `workload.profile` as written: hourly multipliers (24 for a day, 168 for a week), or a
/// weekday and a weekend day.
#[derive(Debug)]
pub enum RawProfile {
    Hours(Vec<S<Num>>),
    Week {
        weekday: Option<S<Vec<S<Num>>>>,
        weekend: Option<S<Vec<S<Num>>>>,
        /// Keys that are neither.
        unknown: Vec<String>,
    },
}

impl<'de> Deserialize<'de> for RawProfile {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{MapAccess, SeqAccess, Visitor};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawProfile;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "an array of 24 or 168 hourly multipliers, or { weekday = [...], weekend = [...] }",
                )
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawProfile, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element::<S<Num>>()? {
                    out.push(v);
                }
                Ok(RawProfile::Hours(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawProfile, A::Error> {
                let (mut weekday, mut weekend, mut unknown) = (None, None, Vec::new());
                while let Some(k) = map.next_key::<String>()? {
                    match k.as_str() {
                        "weekday" => weekday = Some(map.next_value()?),
                        "weekend" => weekend = Some(map.next_value()?),
                        _ => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                            unknown.push(k);
                        }
                    }
                }
                Ok(RawProfile::Week {
                    weekday,
                    weekend,
                    unknown,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// Hours in a week: a weekly profile's length (a daily one has 24).
pub const HOURS_PER_WEEK: usize = 168;

/// `workload.profile`: 24 hourly multipliers (daily) or 168 (weekly, from Monday 00:00,
/// time 0), or a weekday's 24 (Monday to Friday) and a weekend day's 24; not all zero.
fn parse_profile(ctx: &mut Ctx, p: S<RawProfile>) -> Vec<f64> {
    let pspan = p.span();
    const ALLOWED: &str = "allowed: 24 non-negative multipliers (one per hour of the day), 168 (one per hour of the week, from Monday 00:00), or { weekday = [24 numbers], weekend = [24 numbers] }";
    let out = match p.into_inner() {
        RawProfile::Hours(values) => {
            if values.len() != 24 && values.len() != HOURS_PER_WEEK {
                ctx.err(
                    pspan.clone(),
                    "workload.profile",
                    format!("has {} numbers; {ALLOWED}", values.len()),
                );
                return vec![1.0; 24];
            }
            hours(ctx, &values, "workload.profile")
        }
        RawProfile::Week {
            weekday,
            weekend,
            unknown,
        } => {
            for k in &unknown {
                let msg = crate::input::unknown(
                    format!("unknown key `{k}`"),
                    k,
                    &["weekday", "weekend"],
                    Some("allowed"),
                );
                ctx.err(pspan.clone(), &format!("workload.profile.{k}"), msg);
            }
            if !unknown.is_empty() {
                return vec![1.0; 24]; // a misspelt day is the one problem to report
            }
            let mut day = |v: Option<S<Vec<S<Num>>>>, key: &str| -> Vec<f64> {
                let path = format!("workload.profile.{key}");
                match v {
                    None => {
                        ctx.missing(pspan.clone(), "workload.profile", key, "24 hourly multipliers");
                        vec![1.0; 24]
                    }
                    Some(v) if v.get_ref().len() != 24 => {
                        ctx.err(
                            v.span(),
                            &path,
                            format!("has {} numbers; allowed: exactly 24 non-negative multipliers, one per hour of the day", v.get_ref().len()),
                        );
                        vec![1.0; 24]
                    }
                    Some(v) => hours(ctx, v.get_ref(), &path),
                }
            };
            let (weekday, weekend) = (day(weekday, "weekday"), day(weekend, "weekend"));
            (0..7)
                .flat_map(|d| if d < 5 { weekday.clone() } else { weekend.clone() })
                .collect()
        }
    };
    if out.iter().all(|&x| x == 0.0) {
        ctx.err(
            pspan,
            "workload.profile",
            "is zero in every hour, so nothing would arrive",
        );
    }
    out
}

/// Non-negative hourly multipliers at `path[h]`.
fn hours(ctx: &mut Ctx, values: &[S<Num>], path: &str) -> Vec<f64> {
    (values.iter().enumerate())
        .map(|(h, v)| ctx.range(v, &format!("{path}[{h}]"), 0.0, 1e6, "a non-negative multiplier"))
        .collect()
}

/// `[[workload.class]]` (at least one, at most the limit, names unique, shares summing to
/// 1) and the defect kinds they use.
fn parse_classes(
    ctx: &mut Ctx,
    span: &Range<usize>,
    raw: &[S<RawClass>],
    raw_kinds: &[S<RawDefectKind>],
) -> (Vec<Class>, Vec<String>) {
    if raw.is_empty() {
        ctx.missing(
            span.clone(),
            "workload",
            "class",
            "at least one [[workload.class]] table with name, share and defect_prob",
        );
    }
    if raw.len() > limits::MAX_CLASSES {
        ctx.err(
            span.clone(),
            "workload.class",
            format!(
                "has {} classes; at most {} are allowed",
                raw.len(),
                limits::MAX_CLASSES
            ),
        );
    }
    let (kinds, default_shares) = defect_kinds(ctx, raw_kinds);
    let mut names = HashSet::new();
    let mut classes = Vec::new();
    for c in raw {
        let c = c.get_ref();
        let n = c.name.get_ref().clone();
        let path = format!("workload.class[{n}]");
        let name = ctx.name(&c.name, &format!("{path}.name"));
        if !names.insert(name.clone()) {
            ctx.err(
                c.name.span(),
                &format!("{path}.name"),
                format!("class name `{name}` is used twice; names must be unique"),
            );
        }
        classes.push(Class {
            name,
            share: ctx.prob(&c.share, &format!("{path}.share")),
            defect_prob: ctx.prob(&c.defect_prob, &format!("{path}.defect_prob")),
            harm: c.harm.as_ref().map_or(1.0, |h| {
                ctx.range(h, &format!("{path}.harm"), 0.0, 1e12, "a non-negative weight")
            }),
            value: c.value.as_ref().map_or(0.0, |v| {
                ctx.range(
                    v,
                    &format!("{path}.value"),
                    0.0,
                    1e12,
                    "a non-negative amount of money",
                )
            }),
            severe: c.severe.as_ref().is_some_and(|v| *v.get_ref()),
            root_causes: c.root_causes.as_ref().map_or(DEFAULT_ROOT_CAUSES, |v| {
                ctx.int(v, &format!("{path}.root_causes"), 1, limits::MAX_ROOT_CAUSES) as u32
            }),
            kind_shares: match &c.kinds {
                None => default_shares.clone(),
                Some(t) => class_kinds(ctx, t, &path, &kinds, !raw_kinds.is_empty()),
            },
            duty: c.duty.as_ref().map(|v| duty(ctx, v, &format!("{path}.duty"))),
        });
    }
    let total: f64 = classes.iter().map(|c| c.share).sum();
    if !classes.is_empty() && (total - 1.0).abs() > 1e-6 {
        let first = raw[0].get_ref().share.span();
        ctx.err(
            first,
            "workload.class",
            format!("shares sum to {}; they must sum to 1", round9(total)),
        );
    }
    (classes, kinds)
}

/// The most characters a duty's name takes.
pub const MAX_DUTY_CHARS: usize = 64;

/// A class's `duty`: the name of what requires its personal review, 1 to
/// [`MAX_DUTY_CHARS`] characters without control characters.
fn duty(ctx: &mut Ctx, v: &S<String>, path: &str) -> String {
    let s = v.get_ref();
    let n = s.trim().chars().count();
    if !(1..=MAX_DUTY_CHARS).contains(&n) || s.chars().any(char::is_control) {
        ctx.err(
            v.span(),
            path,
            format!(
                "{:?} is not the name of a duty; allowed: 1 to {MAX_DUTY_CHARS} characters without control characters, naming what requires a person to review the class's actions before release, e.g. \"GDPR Art. 22\"",
                crate::input::printable(s)
            ),
        );
    }
    s.trim().to_string()
}

/// `[[workload.defect_kind]]`: the kinds' names and default shares (one kind, [`ONE_KIND`],
/// when none are declared).
fn defect_kinds(ctx: &mut Ctx, raw: &[S<RawDefectKind>]) -> (Vec<String>, Vec<f64>) {
    if raw.is_empty() {
        return (vec![ONE_KIND.to_string()], vec![1.0]);
    }
    if raw.len() > limits::MAX_KINDS {
        ctx.err(
            raw[0].span(),
            "workload.defect_kind",
            format!(
                "has {} kinds; at most {} are allowed",
                raw.len(),
                limits::MAX_KINDS
            ),
        );
    }
    let mut names = Vec::new();
    let mut shares = Vec::new();
    for k in raw.iter().take(limits::MAX_KINDS) {
        let k = k.get_ref();
        let path = format!("workload.defect_kind[{}]", k.name.get_ref());
        let name = ctx.name(&k.name, &format!("{path}.name"));
        if names.contains(&name) {
            ctx.err(
                k.name.span(),
                &format!("{path}.name"),
                format!("defect kind `{name}` is declared twice; names must be unique"),
            );
        }
        names.push(name);
        shares.push(ctx.prob(&k.share, &format!("{path}.share")));
    }
    let total: f64 = shares.iter().sum();
    if (total - 1.0).abs() > 1e-6 {
        ctx.err(
            raw[0].get_ref().share.span(),
            "workload.defect_kind",
            format!("shares sum to {}; they must sum to 1", round9(total)),
        );
    }
    (names, shares)
}

/// A class's own `kinds = { name = share }`: every kind named must be declared; kinds
/// not named get 0; the shares sum to 1.
fn class_kinds(
    ctx: &mut Ctx,
    t: &S<BTreeMap<String, S<Num>>>,
    path: &str,
    kinds: &[String],
    declared: bool,
) -> Vec<f64> {
    let mut shares = vec![0.0; kinds.len()];
    if !declared {
        ctx.err(
            t.span(),
            &format!("{path}.kinds"),
            "declares shares of defect kinds, but the workload has no [[workload.defect_kind]]; declare the kinds first",
        );
        return vec![1.0];
    }
    let names: Vec<&str> = kinds.iter().map(String::as_str).collect();
    let mut unknown_kind = false;
    for (name, v) in t.get_ref() {
        let kpath = format!("{path}.kinds.{name}");
        match names.iter().position(|n| n == name) {
            Some(k) => shares[k] = ctx.prob(v, &kpath),
            None => {
                unknown_kind = true;
                let head = format!("no defect kind named `{name}`");
                ctx.err(v.span(), &kpath, unknown(head, name, &names, Some("kinds are")));
            }
        }
    }
    let total: f64 = shares.iter().sum();
    if !unknown_kind && (total - 1.0).abs() > 1e-6 {
        ctx.err(
            t.span(),
            &format!("{path}.kinds"),
            format!("shares sum to {}; they must sum to 1", round9(total)),
        );
    }
    shares
}

/// A sum as a reader wrote it: 0.9, not 0.8999999999999999.
fn round9(x: f64) -> f64 {
    (x * 1e9).round() / 1e9
}
