//! Phase two of parsing: raw values to a checked [`Scenario`], collecting every error.

use std::collections::HashSet;
use std::ops::Range;

use toml_edit::{DocumentMut, Item};

use super::error::{did_you_mean, explain_serde_message, Diagnostic, LineIndex};
use super::overrides::FromCli;
use super::raw::*;
use super::*;
use crate::units::{parse_duration, parse_rate, DURATION_HELP};

struct Ctx<'a> {
    lines: LineIndex,
    from_cli: &'a FromCli,
    errors: Vec<Diagnostic>,
}

impl Ctx<'_> {
    fn err(&mut self, span: Range<usize>, path: &str, message: impl Into<String>) {
        let mut message = message.into();
        let line = match self.from_cli.get(path) {
            Some(set) => {
                message.push_str(&format!(" (set by {set})"));
                None
            }
            None => Some(self.lines.line(span.start)),
        };
        self.errors.push(Diagnostic {
            line,
            path: path.to_string(),
            message,
        });
    }

    fn prob(&mut self, v: &S<Num>, path: &str) -> f64 {
        self.range(v, path, 0.0, 1.0, "a probability in [0, 1]")
    }

    fn range(&mut self, v: &S<Num>, path: &str, lo: f64, hi: f64, allowed: &str) -> f64 {
        let x = v.get_ref().get();
        if !(x >= lo && x <= hi) {
            self.err(
                v.span(),
                path,
                format!("{} is out of range; allowed: {allowed}", fmt_num(x)),
            );
        }
        x
    }

    fn opt_prob(&mut self, v: &Option<S<Num>>, path: &str, default: f64) -> f64 {
        v.as_ref().map_or(default, |v| self.prob(v, path))
    }

    fn int(&mut self, v: &S<i64>, path: &str, lo: i64, hi: i64) -> i64 {
        let x = *v.get_ref();
        if x < lo || x > hi {
            self.err(
                v.span(),
                path,
                format!("{x} is out of range; allowed: an integer in [{lo}, {hi}]"),
            );
        }
        x.clamp(lo, hi)
    }

    /// A duration; positive unless `allow_zero`.
    fn duration(&mut self, v: &S<String>, path: &str, allow_zero: bool) -> f64 {
        match parse_duration(v.get_ref()) {
            Ok(h) if h == 0.0 && !allow_zero => {
                self.err(
                    v.span(),
                    path,
                    format!(
                        "`{}` must be longer than zero; expected {DURATION_HELP}",
                        v.get_ref()
                    ),
                );
                1.0
            }
            Ok(h) if h > limits::MAX_HOURS => {
                self.err(
                    v.span(),
                    path,
                    format!("`{}` is longer than the limit of 1000 years", v.get_ref()),
                );
                1.0
            }
            Ok(h) => h,
            Err(e) => {
                self.err(v.span(), path, e);
                1.0
            }
        }
    }

    fn choice<'c>(&mut self, v: &S<String>, path: &str, allowed: &[&'c str]) -> Option<&'c str> {
        let s = v.get_ref().as_str();
        if let Some(c) = allowed.iter().find(|c| **c == s) {
            return Some(c);
        }
        let mut msg = format!("`{s}` is not allowed");
        if let Some(m) = did_you_mean(s, allowed.iter().copied()) {
            msg.push_str(&format!("; did you mean `{m}`?"));
        }
        msg.push_str(&format!("; allowed: {}", allowed.join(", ")));
        self.err(v.span(), path, msg);
        None
    }

    fn name(&mut self, v: &S<String>, path: &str) -> String {
        let s = v.get_ref();
        if !is_kebab(s) {
            self.err(v.span(), path, format!("`{s}` is not a valid name; allowed: lowercase letters, digits and `-`, starting with a letter or digit (e.g. `high-impact`)"));
        }
        s.clone()
    }

    fn missing(&mut self, span: Range<usize>, path: &str, key: &str, what: &str) {
        let p = if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        };
        self.err(
            span,
            &p,
            format!("required key `{key}` is missing; expected {what}"),
        );
    }
}

fn is_kebab(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && b.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
}

fn fmt_num(x: f64) -> String {
    if x.is_nan() {
        "nan".into()
    } else {
        format!("{x}")
    }
}

/// Parses the whole text; returns every problem found.
pub fn parse(text: &str, from_cli: &FromCli) -> Result<Scenario, Vec<Diagnostic>> {
    let lines = LineIndex::new(text);
    let raw: RawScenario = match toml::de::Deserializer::parse(text)
        .map_err(|e| (e, String::new()))
        .and_then(|de| {
            serde_path_to_error::deserialize(de).map_err(|e| {
                let path = readable_path(text, e.path());
                (e.into_inner(), path)
            })
        }) {
        Ok(raw) => raw,
        Err((e, path)) => {
            let line = e.span().map(|s| lines.line(s.start));
            let message = explain_serde_message(e.message());
            return Err(vec![Diagnostic { line, path, message }]);
        }
    };
    let mut ctx = Ctx {
        lines,
        from_cli,
        errors: Vec::new(),
    };
    let scenario = build(&mut ctx, raw);
    if ctx.errors.is_empty() {
        Ok(scenario)
    } else {
        ctx.errors.sort_by_key(|d| d.line.unwrap_or(0));
        Err(ctx.errors)
    }
}

/// Turns serde's `policy[1].stage[0].detect` into `policy[process].stage[review].detect`
/// using the names in the document, so the path means something to the user.
fn readable_path(text: &str, path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let doc = DocumentMut::from_str(text).ok();
    let mut item: Option<&Item> = doc.as_ref().map(|d| d.as_item());
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Map { key } if key.starts_with("$__") => {}
            Segment::Map { key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
                item = item.and_then(|i| i.get(key.as_str()));
            }
            Segment::Seq { index } => {
                let entry = item.and_then(|i| match i {
                    Item::ArrayOfTables(a) => a.get(*index).map(|t| t as &dyn toml_edit::TableLike),
                    _ => None,
                });
                let name = entry.and_then(|t| {
                    t.get("name")
                        .and_then(Item::as_str)
                        .map(str::to_string)
                        .or_else(|| t.get("kind").and_then(Item::as_str).map(|k| k.replace('_', "-")))
                });
                match name {
                    Some(n) => out.push_str(&format!("[{n}]")),
                    None => out.push_str(&format!("[{index}]")),
                }
                item = item.and_then(|i| i.get(*index));
            }
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    out
}

use std::str::FromStr as _;

fn build(ctx: &mut Ctx, raw: RawScenario) -> Scenario {
    let name = ctx.name(&raw.name, "name");
    let description = raw.description.map(|d| d.into_inner()).unwrap_or_default();
    let run = build_run(ctx, raw.run);
    let workload = build_workload(ctx, raw.workload);
    let costs = raw.costs.map_or(Costs::default(), |c| {
        let c = c.into_inner();
        let mut money = |v: &Option<S<Num>>, path| {
            v.as_ref()
                .map_or(0.0, |v| ctx.range(v, path, 0.0, 1e12, "a non-negative amount"))
        };
        Costs {
            reviewer_hour: money(&c.reviewer_hour, "costs.reviewer_hour"),
            halt_hour: money(&c.halt_hour, "costs.halt_hour"),
            harm_unit: money(&c.harm_unit, "costs.harm_unit"),
        }
    });
    if raw.policy.is_empty() {
        ctx.errors.push(Diagnostic {
            line: None,
            path: "policy".into(),
            message: "the scenario has no policies; add at least one [[policy]] table".into(),
        });
    }
    let mut seen = HashSet::new();
    let policies = raw
        .policy
        .into_iter()
        .map(|p| {
            let span = p.span();
            let pol = build_policy(ctx, p.into_inner(), &workload.classes);
            if !seen.insert(pol.name.clone()) {
                ctx.err(
                    span,
                    &format!("policy[{}].name", pol.name),
                    format!("policy name `{}` is used twice; names must be unique", pol.name),
                );
            }
            pol
        })
        .collect();
    let sweep = raw.sweep.map_or_else(Vec::new, |t| build_sweep(ctx, t));
    Scenario {
        name,
        description,
        run,
        workload,
        costs,
        policies,
        sweep,
    }
}

fn build_sweep(ctx: &mut Ctx, t: S<toml::Table>) -> Vec<SweepDim> {
    let span = t.span();
    let mut dims = Vec::new();
    for (path, values) in t.into_inner() {
        let p = format!("sweep.\"{path}\"");
        match values {
            toml::Value::Array(a) if !a.is_empty() => dims.push(SweepDim {
                values: a.iter().map(SweepValue::from_toml).collect(),
                path,
                origin: "[sweep]",
            }),
            _ => ctx.err(span.clone(), &p, "a sweep key takes a non-empty array of values, e.g. \"workload.rate\" = [\"20/h\", \"40/h\"]"),
        }
    }
    dims
}

fn build_run(ctx: &mut Ctx, run: Option<S<RawRun>>) -> RunConfig {
    let Some(run) = run else {
        return RunConfig {
            replications: 100,
            horizon: 30.0 * 24.0,
            warmup: 0.0,
            seed: 0,
            max_backlog: limits::DEFAULT_MAX_BACKLOG,
        };
    };
    let r = run.into_inner();
    RunConfig {
        replications: r.replications.as_ref().map_or(100, |v| {
            ctx.int(v, "run.replications", 1, limits::MAX_REPLICATIONS) as u64
        }),
        horizon: r
            .horizon
            .as_ref()
            .map_or(720.0, |v| ctx.duration(v, "run.horizon", false)),
        warmup: r
            .warmup
            .as_ref()
            .map_or(0.0, |v| ctx.duration(v, "run.warmup", true)),
        seed: r
            .seed
            .as_ref()
            .map_or(0, |v| ctx.int(v, "run.seed", 0, i64::MAX) as u64),
        max_backlog: r.max_backlog.as_ref().map_or(limits::DEFAULT_MAX_BACKLOG, |v| {
            ctx.int(v, "run.max_backlog", 1, limits::MAX_BACKLOG) as u64
        }),
    }
}

fn build_workload(ctx: &mut Ctx, w: S<RawWorkload>) -> Workload {
    let span = w.span();
    let w = w.into_inner();
    let rate = match parse_rate(w.rate.get_ref()) {
        Ok(r) => r,
        Err(e) => {
            ctx.err(w.rate.span(), "workload.rate", e);
            1.0
        }
    };
    let profile = w.profile.map(|p| {
        let pspan = p.span();
        let values = p.into_inner();
        let mut out = [1.0; 24];
        if values.len() != 24 {
            ctx.err(
                pspan.clone(),
                "workload.profile",
                format!(
                    "has {} numbers; allowed: exactly 24 non-negative multipliers, one per hour of the day",
                    values.len()
                ),
            );
        }
        for (h, v) in values.iter().enumerate().take(24) {
            out[h] = ctx.range(
                v,
                &format!("workload.profile[{h}]"),
                0.0,
                1e6,
                "a non-negative multiplier",
            );
        }
        if values.len() == 24 && out.iter().all(|&x| x == 0.0) {
            ctx.err(
                pspan,
                "workload.profile",
                "is zero in every hour, so nothing would arrive",
            );
        }
        out
    });
    if w.class.is_empty() {
        ctx.missing(
            span.clone(),
            "workload",
            "class",
            "at least one [[workload.class]] table with name, share and defect_prob",
        );
    }
    if w.class.len() > limits::MAX_CLASSES {
        ctx.err(
            span.clone(),
            "workload.class",
            format!(
                "has {} classes; at most {} are allowed",
                w.class.len(),
                limits::MAX_CLASSES
            ),
        );
    }
    let mut names = HashSet::new();
    let mut classes = Vec::new();
    for c in &w.class {
        let cspan = c.span();
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
        });
        let _ = cspan;
    }
    let total: f64 = classes.iter().map(|c| c.share).sum();
    if !classes.is_empty() && (total - 1.0).abs() > 1e-6 {
        let first = w.class[0].get_ref().share.span();
        ctx.err(
            first,
            "workload.class",
            format!("shares sum to {total}; they must sum to 1"),
        );
    }
    let detection_correlation = w.detection_correlation.as_ref().map_or(0.0, |v| {
        ctx.range(
            v,
            "workload.detection_correlation",
            0.0,
            0.999_999,
            "a correlation in [0, 1)",
        )
    });
    let learning_floor = w
        .learning_floor
        .as_ref()
        .map_or(0.2, |v| ctx.prob(v, "workload.learning_floor"));
    let drift = w.drift.map(|d| {
        let d = d.into_inner();
        Drift {
            every: ctx.duration(&d.every, "workload.drift.every", false),
            multiplier: ctx.range(
                &d.multiplier,
                "workload.drift.multiplier",
                0.0,
                1e6,
                "a non-negative factor on defect probabilities",
            ),
            self_heal: d
                .self_heal
                .as_ref()
                .map(|v| ctx.duration(v, "workload.drift.self_heal", false)),
        }
    });
    let rework = w.rework.map(|r| {
        let r = r.into_inner();
        Rework {
            delay: build_dist(ctx, &r.delay, "workload.rework.delay", true),
            max_attempts: ctx.int(
                &r.max_attempts,
                "workload.rework.max_attempts",
                1,
                limits::MAX_ATTEMPTS,
            ) as u32,
        }
    });
    Workload {
        rate,
        profile,
        classes,
        rework,
        drift,
        detection_correlation,
        learning_floor,
    }
}

fn build_dist(ctx: &mut Ctx, d: &S<RawDist>, path: &str, allow_zero: bool) -> Dist {
    let span = d.span();
    let r = d.get_ref();
    let kinds = [
        "exponential",
        "lognormal",
        "gamma",
        "constant",
        "uniform",
        "triangular",
    ];
    let Some(kind) = ctx.choice(&r.dist, &format!("{path}.dist"), &kinds) else {
        return Dist::constant(1.0);
    };
    let needs: &[&str] = match kind {
        "exponential" => &["mean"],
        "lognormal" | "gamma" => &["mean", "cv"],
        "constant" => &["value"],
        "uniform" => &["min", "max"],
        _ => &["min", "mode", "max"],
    };
    let present = [
        ("mean", r.mean.as_ref().map(|v| v.span())),
        ("cv", r.cv.as_ref().map(|v| v.span())),
        ("value", r.value.as_ref().map(|v| v.span())),
        ("min", r.min.as_ref().map(|v| v.span())),
        ("mode", r.mode.as_ref().map(|v| v.span())),
        ("max", r.max.as_ref().map(|v| v.span())),
    ];
    let mut ok = true;
    for (key, sp) in &present {
        match (needs.contains(key), sp) {
            (true, None) => {
                ctx.missing(
                    span.clone(),
                    path,
                    key,
                    &format!("the keys {} for dist = \"{kind}\"", needs.join(", ")),
                );
                ok = false;
            }
            (false, Some(sp)) => {
                ctx.err(
                    sp.clone(),
                    &format!("{path}.{key}"),
                    format!(
                        "`{key}` does not apply to dist = \"{kind}\"; it takes {}",
                        needs.join(", ")
                    ),
                );
                ok = false;
            }
            _ => {}
        }
    }
    if !ok {
        return Dist::constant(1.0);
    }
    let mut dur = |v: &Option<S<String>>, key: &str, zero: bool| {
        ctx.duration(
            v.as_ref().expect("presence checked"),
            &format!("{path}.{key}"),
            zero,
        )
    };
    let built = match kind {
        "exponential" => Ok(Dist::exponential(dur(&r.mean, "mean", false))),
        "lognormal" | "gamma" => {
            let mean = dur(&r.mean, "mean", false);
            let cvv = r.cv.as_ref().expect("presence checked");
            let cv = ctx.range(
                cvv,
                &format!("{path}.cv"),
                1e-6,
                100.0,
                "a coefficient of variation in (0, 100]; use dist = \"constant\" for no variation",
            );
            if kind == "lognormal" {
                Dist::lognormal(mean, cv)
            } else {
                Dist::gamma(mean, cv)
            }
        }
        "constant" => Ok(Dist::constant(dur(&r.value, "value", allow_zero))),
        "uniform" => {
            let (lo, hi) = (dur(&r.min, "min", true), dur(&r.max, "max", false));
            if lo >= hi {
                ctx.err(span.clone(), path, "`min` must be less than `max`");
            }
            Dist::uniform(lo, hi.max(lo + 1e-9))
        }
        _ => {
            let (lo, mode, hi) = (
                dur(&r.min, "min", true),
                dur(&r.mode, "mode", true),
                dur(&r.max, "max", false),
            );
            if !(lo <= mode && mode <= hi && lo < hi) {
                ctx.err(span.clone(), path, "needs min ≤ mode ≤ max with min < max");
            }
            Dist::triangular(lo, mode.clamp(lo, hi), hi.max(lo + 1e-9))
        }
    };
    built.unwrap_or_else(|e| {
        ctx.err(span, path, e);
        Dist::constant(1.0)
    })
}

const CHECK_KEYS: &[&str] = &[
    "kind",
    "name",
    "classes",
    "sample",
    "service",
    "detect",
    "false_positive",
    "on_flag",
    "escalate_to",
    "learn",
];
const AUDIT_KEYS: &[&str] = &[
    "kind",
    "name",
    "classes",
    "sample",
    "reviewers",
    "service",
    "detect",
    "late_harm_factor",
    "learn",
];
const MONITOR_KEYS: &[&str] = &[
    "kind", "name", "watch", "method", "k", "p0", "p1", "h", "lambda", "L", "n", "halt",
];
const REVIEW_KEYS: &[&str] = &[
    "kind",
    "name",
    "classes",
    "sample",
    "service",
    "detect",
    "false_reject",
    "reviewers",
    "discipline",
    "fatigue",
    "complacency",
    "pressure",
    "max_wait",
    "on_timeout",
    "shifts",
    "learn",
];

/// The keys written in a raw stage, with their spans.
fn present_keys(s: &RawStage) -> Vec<(&'static str, Range<usize>)> {
    macro_rules! keys {
        ($($k:ident),*) => {{
            let mut v = Vec::new();
            $( if let Some(x) = &s.$k { v.push((stringify!($k), x.span())); } )*
            v
        }};
    }
    keys!(
        name,
        classes,
        sample,
        service,
        detect,
        false_positive,
        on_flag,
        escalate_to,
        reviewers,
        false_reject,
        discipline,
        fatigue,
        complacency,
        pressure,
        max_wait,
        on_timeout,
        shifts,
        learn,
        late_harm_factor,
        watch,
        method,
        k,
        p0,
        p1,
        h,
        lambda,
        big_l,
        n,
        halt
    )
    .into_iter()
    .map(|(k, sp)| (if k == "big_l" { "L" } else { k }, sp))
    .collect()
}

/// The people of a review or audit stage: `reviewers` and a `service` time with a mean
/// above zero (`who` names them in messages: "reviewers", "auditors").
fn staffing(
    ctx: &mut Ctx,
    r: &RawStage,
    path: &str,
    span: &Range<usize>,
    service: Option<Dist>,
    who: &str,
    example_mean: &str,
) -> (u32, Dist) {
    let reviewers = match &r.reviewers {
        Some(v) => ctx.int(v, &format!("{path}.reviewers"), 1, limits::MAX_REVIEWERS) as u32,
        None => {
            ctx.missing(
                span.clone(),
                path,
                "reviewers",
                &format!("a number of {who}, at least 1"),
            );
            1
        }
    };
    let service = service.unwrap_or_else(|| {
        let example = format!(
            "a time distribution such as {{ dist = \"lognormal\", mean = \"{example_mean}\", cv = 1.0 }}"
        );
        ctx.missing(span.clone(), path, "service", &example);
        Dist::constant(1.0)
    });
    if service.mean() <= 0.0 {
        ctx.err(
            span.clone(),
            &format!("{path}.service"),
            format!("{who} must take some time; the mean must be above zero"),
        );
    }
    (reviewers, service)
}

fn build_audit(
    ctx: &mut Ctx,
    r: &RawStage,
    path: &str,
    span: Range<usize>,
    service: Option<Dist>,
    detect: f64,
) -> Audit {
    let (reviewers, service) = staffing(ctx, r, path, &span, service, "auditors", "15m");
    Audit {
        reviewers,
        service,
        detect,
        late_harm_factor: r.late_harm_factor.as_ref().map_or(0.5, |v| {
            ctx.range(
                v,
                &format!("{path}.late_harm_factor"),
                0.0,
                1e6,
                "a non-negative factor on the harm of a defect found late",
            )
        }),
    }
}

fn build_monitor(
    ctx: &mut Ctx,
    r: &RawStage,
    path: &str,
    span: Range<usize>,
    names: &[String],
    stages: &[S<RawStage>],
) -> Monitor {
    let mut watch = 0u64;
    match &r.watch {
        None => ctx.missing(
            span.clone(),
            path,
            "watch",
            "a list of the stages whose findings it watches, e.g. [\"tests\", \"audit\"]",
        ),
        Some(list) if list.get_ref().is_empty() => ctx.err(
            list.span(),
            &format!("{path}.watch"),
            "watches nothing; name at least one check, review or audit stage",
        ),
        Some(list) => {
            for w in list.get_ref() {
                let target = w.get_ref();
                match names.iter().position(|n| n == target) {
                    Some(j) if stages[j].get_ref().kind.get_ref() == "monitor" => ctx.err(
                        w.span(),
                        &format!("{path}.watch"),
                        format!("`{target}` is a monitor; a monitor watches checks, reviews and audits"),
                    ),
                    Some(j) => watch |= 1 << j,
                    None => {
                        let mut msg = format!("no stage named `{target}` in this policy");
                        if let Some(m) = did_you_mean(target, names.iter().map(String::as_str)) {
                            msg.push_str(&format!("; did you mean `{m}`?"));
                        }
                        msg.push_str(&format!("; stages are: {}", names.join(", ")));
                        ctx.err(w.span(), &format!("{path}.watch"), msg);
                    }
                }
            }
        }
    }
    let halt = r
        .halt
        .as_ref()
        .map_or(0.0, |v| ctx.duration(v, &format!("{path}.halt"), true));
    let method = match &r.method {
        Some(m) => ctx.choice(m, &format!("{path}.method"), &["cusum", "ewma", "shewhart"]),
        None => {
            ctx.missing(
                span.clone(),
                path,
                "method",
                "\"cusum\", \"ewma\" or \"shewhart\"",
            );
            None
        }
    };
    let present: Vec<&str> = present_keys(r).into_iter().map(|(k, _)| k).collect();
    let Some(method) = method else {
        return Monitor {
            watch,
            chart: Chart::Cusum { k: 0.5, h: 1.0 },
            halt,
        };
    };
    let wants: &[&str] = match method {
        "cusum" => &["k", "p0", "p1", "h"],
        "ewma" => &["lambda", "L", "p0"],
        _ => &["n", "p0"],
    };
    for (key, sp) in present_keys(r) {
        if ["k", "p0", "p1", "h", "lambda", "L", "n"].contains(&key) && !wants.contains(&key) {
            ctx.err(
                sp,
                &format!("{path}.{key}"),
                format!(
                    "`{key}` does not apply to method = \"{method}\"; it takes {}",
                    wants.join(", ")
                ),
            );
        }
    }
    let rate = |ctx: &mut Ctx, v: &Option<S<Num>>, key: &str| -> Option<f64> {
        v.as_ref().map(|v| {
            ctx.range(
                v,
                &format!("{path}.{key}"),
                1e-9,
                1.0 - 1e-9,
                "a rate strictly between 0 and 1",
            )
        })
    };
    let need = |ctx: &mut Ctx, key: &str, what: &str| ctx.missing(span.clone(), path, key, what);
    let chart = match method {
        "cusum" => {
            let h = match &r.h {
                Some(v) => ctx.range(v, &format!("{path}.h"), 1e-9, 1e9, "a positive decision interval"),
                None => {
                    need(ctx, "h", "the decision interval h > 0 (alarm when S ≥ h)");
                    1.0
                }
            };
            let (p0, p1) = (rate(ctx, &r.p0, "p0"), rate(ctx, &r.p1, "p1"));
            let k = match (&r.k, p0, p1) {
                (Some(k), None, None) => ctx.range(
                    k,
                    &format!("{path}.k"),
                    1e-9,
                    1.0 - 1e-9,
                    "a reference value in (0, 1)",
                ),
                (Some(k), _, _) => {
                    ctx.err(
                        k.span(),
                        &format!("{path}.k"),
                        "give either k or p0 and p1, not both",
                    );
                    0.5
                }
                (None, Some(a), Some(b)) if a < b => Chart::cusum_k(a, b),
                (None, Some(_), Some(_)) => {
                    let v = r.p1.as_ref().expect("p1 given");
                    ctx.err(
                        v.span(),
                        &format!("{path}.p1"),
                        "p1 (the rate to detect) must be above p0 (the in-control rate)",
                    );
                    0.5
                }
                (None, _, _) => {
                    let missing = if present.contains(&"p0") { "p1" } else { "p0" };
                    need(
                        ctx,
                        if present.contains(&"p0") || present.contains(&"p1") {
                            missing
                        } else {
                            "k"
                        },
                        "k in (0, 1), or p0 and p1 with 0 < p0 < p1 < 1",
                    );
                    0.5
                }
            };
            Chart::Cusum { k, h }
        }
        "ewma" => {
            let lambda = match &r.lambda {
                Some(v) => ctx.range(
                    v,
                    &format!("{path}.lambda"),
                    1e-9,
                    1.0,
                    "a smoothing weight in (0, 1]",
                ),
                None => {
                    need(ctx, "lambda", "a smoothing weight in (0, 1], e.g. 0.1");
                    0.1
                }
            };
            let l = match &r.big_l {
                Some(v) => ctx.range(
                    v,
                    &format!("{path}.L"),
                    1e-9,
                    1e3,
                    "a positive width in standard deviations",
                ),
                None => {
                    need(ctx, "L", "the limit width in standard deviations, e.g. 2.814");
                    3.0
                }
            };
            let p0 = rate(ctx, &r.p0, "p0").unwrap_or_else(|| {
                need(ctx, "p0", "the in-control rate of findings, in (0, 1)");
                0.5
            });
            Chart::Ewma { lambda, l, p0 }
        }
        _ => {
            let n = match &r.n {
                Some(v) => ctx.int(v, &format!("{path}.n"), 1, 1_000_000_000) as u32,
                None => {
                    need(ctx, "n", "the number of observations per window, e.g. 50");
                    1
                }
            };
            let p0 = rate(ctx, &r.p0, "p0").unwrap_or_else(|| {
                need(ctx, "p0", "the in-control rate of findings, in (0, 1)");
                0.5
            });
            let chart = Chart::Shewhart { n, p0 };
            if chart.limit() >= 1.0 {
                let sp = r.n.as_ref().map_or(span.clone(), |v| v.span());
                ctx.err(sp, &format!("{path}.n"), format!("with n = {n} and p0 = {p0} the control limit {:.3} is not below 1, so the chart could never alarm; use a larger n", chart.limit()));
            }
            chart
        }
    };
    Monitor { watch, chart, halt }
}

fn build_policy(ctx: &mut Ctx, p: RawPolicy, classes: &[Class]) -> Policy {
    let pname = p.name.get_ref().clone();
    let name = ctx.name(&p.name, &format!("policy[{pname}].name"));
    if p.stage.len() > limits::MAX_STAGES {
        ctx.err(
            p.name.span(),
            &format!("policy[{pname}].stage"),
            format!(
                "has {} stages; at most {} are allowed",
                p.stage.len(),
                limits::MAX_STAGES
            ),
        );
    }
    // Names first, so escalation targets can be resolved in any order.
    let names: Vec<String> = p
        .stage
        .iter()
        .map(|s| {
            let s = s.get_ref();
            s.name
                .as_ref()
                .map(|n| n.get_ref().clone())
                .unwrap_or_else(|| s.kind.get_ref().replace('_', "-"))
        })
        .collect();
    let mut seen = HashSet::new();
    let mut stages = Vec::new();
    for (i, s) in p.stage.iter().enumerate() {
        let span = s.span();
        let r = s.get_ref();
        let sname = &names[i];
        let path = format!("policy[{pname}].stage[{sname}]");
        if let Some(n) = &r.name {
            ctx.name(n, &format!("{path}.name"));
        }
        if !seen.insert(sname.clone()) {
            let sp = r.name.as_ref().map_or(span.clone(), |n| n.span());
            ctx.err(
                sp,
                &format!("{path}.name"),
                format!(
                    "stage name `{sname}` is used twice in policy `{pname}`; give each stage a unique `name`"
                ),
            );
        }
        let Some(kind) = ctx.choice(
            &r.kind,
            &format!("{path}.kind"),
            &["automated_check", "human_review", "audit", "monitor"],
        ) else {
            continue;
        };
        let allowed = match kind {
            "automated_check" => CHECK_KEYS,
            "human_review" => REVIEW_KEYS,
            "audit" => AUDIT_KEYS,
            _ => MONITOR_KEYS,
        };
        for (key, sp) in present_keys(r) {
            if !allowed.contains(&key) {
                ctx.err(
                    sp,
                    &format!("{path}.{key}"),
                    format!(
                        "`{key}` is not a key of an {kind} stage; allowed keys: {}",
                        allowed.join(", ")
                    ),
                );
            }
        }
        let class_set = match &r.classes {
            None => ClassSet::all(classes.len()),
            Some(list) => {
                let mut set = 0u64;
                for c in list.get_ref() {
                    match classes.iter().position(|k| &k.name == c.get_ref()) {
                        Some(ci) => set |= 1 << ci,
                        None => {
                            let mut msg = format!("no class named `{}`", c.get_ref());
                            if let Some(m) =
                                did_you_mean(c.get_ref(), classes.iter().map(|k| k.name.as_str()))
                            {
                                msg.push_str(&format!("; did you mean `{m}`?"));
                            }
                            let all: Vec<&str> = classes.iter().map(|k| k.name.as_str()).collect();
                            msg.push_str(&format!("; classes are: {}", all.join(", ")));
                            ctx.err(c.span(), &format!("{path}.classes"), msg);
                        }
                    }
                }
                ClassSet(set)
            }
        };
        let sample = r
            .sample
            .as_ref()
            .map_or(1.0, |v| ctx.prob(v, &format!("{path}.sample")));
        let detect = match &r.detect {
            Some(d) => ctx.prob(d, &format!("{path}.detect")),
            None if kind != "monitor" => {
                ctx.missing(span.clone(), &path, "detect", "a probability in [0, 1]");
                0.0
            }
            None => 0.0,
        };
        let learn = r.learn.as_ref().map_or(0.0, |v| {
            ctx.range(
                v,
                &format!("{path}.learn"),
                0.0,
                0.999_999,
                "a fraction in [0, 1): each defect found multiplies the defect rate by 1 − learn",
            )
        });
        let service = r
            .service
            .as_ref()
            .map(|d| build_dist(ctx, d, &format!("{path}.service"), true));
        let stage_kind = if kind == "audit" {
            StageKind::Audit(build_audit(ctx, r, &path, span.clone(), service, detect))
        } else if kind == "monitor" {
            StageKind::Monitor(build_monitor(ctx, r, &path, span.clone(), &names, &p.stage))
        } else if kind == "automated_check" {
            let on_flag = match r.on_flag.as_ref().map(|v| {
                (
                    v,
                    ctx.choice(v, &format!("{path}.on_flag"), &["reject", "escalate"]),
                )
            }) {
                Some((v, Some("escalate"))) => match &r.escalate_to {
                    None => {
                        ctx.missing(
                            v.span(),
                            &path,
                            "escalate_to",
                            "the name of a later human_review stage",
                        );
                        OnFlag::Reject
                    }
                    Some(t) => OnFlag::Escalate(resolve_escalation(ctx, t, &path, i, &names, &p.stage)),
                },
                _ => {
                    if let Some(t) = &r.escalate_to {
                        ctx.err(
                            t.span(),
                            &format!("{path}.escalate_to"),
                            "`escalate_to` needs on_flag = \"escalate\"",
                        );
                    }
                    OnFlag::Reject
                }
            };
            StageKind::AutomatedCheck(AutomatedCheck {
                service,
                detect,
                false_positive: ctx.opt_prob(&r.false_positive, &format!("{path}.false_positive"), 0.0),
                on_flag,
            })
        } else {
            StageKind::HumanReview(build_review(ctx, r, &path, span.clone(), service, detect))
        };
        stages.push(Stage {
            learn,
            name: sname.clone(),
            classes: class_set,
            sample,
            kind: stage_kind,
        });
    }
    Policy {
        name,
        description: p.description.map(|d| d.into_inner()).unwrap_or_default(),
        stages,
    }
}

fn resolve_escalation(
    ctx: &mut Ctx,
    t: &S<String>,
    path: &str,
    i: usize,
    names: &[String],
    stages: &[S<RawStage>],
) -> usize {
    let target = t.get_ref();
    let p = format!("{path}.escalate_to");
    match names.iter().position(|n| n == target) {
        None => {
            let mut msg = format!("no stage named `{target}` in this policy");
            if let Some(m) = did_you_mean(target, names.iter().map(String::as_str)) {
                msg.push_str(&format!("; did you mean `{m}`?"));
            }
            msg.push_str(&format!("; stages are: {}", names.join(", ")));
            ctx.err(t.span(), &p, msg);
            0
        }
        Some(j) if j <= i => {
            ctx.err(t.span(), &p, format!("`{target}` does not come after this stage; escalation must go to a later human_review stage"));
            0
        }
        Some(j) if stages[j].get_ref().kind.get_ref() != "human_review" => {
            ctx.err(t.span(), &p, format!("`{target}` is not a human_review stage; escalation must go to a later human_review stage"));
            0
        }
        Some(j) => j,
    }
}

fn build_review(
    ctx: &mut Ctx,
    r: &RawStage,
    path: &str,
    span: Range<usize>,
    service: Option<Dist>,
    detect: f64,
) -> HumanReview {
    let (reviewers, service) = staffing(ctx, r, path, &span, service, "reviewers", "6m");
    let discipline = match r
        .discipline
        .as_ref()
        .map(|v| ctx.choice(v, &format!("{path}.discipline"), &["fifo", "priority"]))
    {
        Some(Some("priority")) => Discipline::Priority,
        _ => Discipline::Fifo,
    };
    let fatigue = r.fatigue.as_ref().map(|f| {
        let f = f.get_ref();
        let fp = format!("{path}.fatigue");
        let break_after = f
            .break_after
            .as_ref()
            .map(|v| ctx.duration(v, &format!("{fp}.break_after"), false));
        let break_length = f
            .break_length
            .as_ref()
            .map(|v| ctx.duration(v, &format!("{fp}.break_length"), false));
        if let (Some(a), None) = (&f.break_after, &break_length) {
            ctx.missing(
                a.span(),
                &fp,
                "break_length",
                "how long a break lasts, e.g. \"15m\"",
            );
        }
        Fatigue {
            tau: ctx.duration(&f.tau, &format!("{fp}.tau"), false),
            floor: ctx.prob(&f.floor, &format!("{fp}.floor")),
            break_after,
            break_length,
        }
    });
    let pressure = r.pressure.as_ref().map(|p| {
        let p = p.get_ref();
        let pp = format!("{path}.pressure");
        Pressure {
            queue: ctx.int(&p.queue, &format!("{pp}.queue"), 1, 1_000_000_000) as u32,
            speedup: p.speedup.as_ref().map_or(1.0, |v| {
                ctx.range(
                    v,
                    &format!("{pp}.speedup"),
                    1.0,
                    1000.0,
                    "a factor ≥ 1 by which service time shrinks",
                )
            }),
            detect_factor: ctx.opt_prob(&p.detect_factor, &format!("{pp}.detect_factor"), 1.0),
        }
    });
    let max_wait = r
        .max_wait
        .as_ref()
        .map(|v| ctx.duration(v, &format!("{path}.max_wait"), false));
    let on_timeout = match r.on_timeout.as_ref().map(|v| {
        (
            v,
            ctx.choice(v, &format!("{path}.on_timeout"), &["approve", "drop"]),
        )
    }) {
        Some((v, c)) => {
            if max_wait.is_none() {
                ctx.err(
                    v.span(),
                    &format!("{path}.on_timeout"),
                    "`on_timeout` needs `max_wait`",
                );
            }
            if c == Some("drop") {
                OnTimeout::Drop
            } else {
                OnTimeout::Approve
            }
        }
        None => OnTimeout::Approve,
    };
    let shifts = r.shifts.as_ref().map(|s| {
        let s = s.get_ref();
        let sp = format!("{path}.shifts");
        let on = ctx.duration(&s.on, &format!("{sp}.on"), false);
        let period = ctx.duration(&s.period, &format!("{sp}.period"), false);
        if on > period {
            ctx.err(
                s.on.span(),
                &format!("{sp}.on"),
                "a shift cannot be longer than its period",
            );
        }
        let start = s
            .start
            .as_ref()
            .map_or(0.0, |v| ctx.duration(v, &format!("{sp}.start"), true));
        if start >= period {
            let v = s.start.as_ref().expect("start > 0 was given");
            ctx.err(
                v.span(),
                &format!("{sp}.start"),
                "the first shift must start within the first period (start < period)",
            );
        }
        Shifts {
            on: on.min(period),
            period,
            start: start.min(period),
        }
    });
    HumanReview {
        reviewers,
        service,
        detect,
        false_reject: ctx.opt_prob(&r.false_reject, &format!("{path}.false_reject"), 0.0),
        discipline,
        fatigue,
        complacency: r.complacency.as_ref().map_or(1.0, |v| {
            ctx.range(
                v,
                &format!("{path}.complacency"),
                1.0,
                1000.0,
                "a miss-probability multiplier ≥ 1 (1 = no automation bias)",
            )
        }),
        pressure,
        max_wait,
        on_timeout,
        shifts,
    }
}
