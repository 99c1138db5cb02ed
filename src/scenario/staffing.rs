//! Staffing by rule: a rule written in place of a number of people or a monitor's
//! threshold, such as `reviewers = { rule = "p95_wait", max = "15m" }` or
//! `h = { rule = "false_alarms", max = 2, per = "30d" }`.
//!
//! Loading reads each rule (with its line and key path) and writes a placeholder number in
//! its place, so the rest of the file is checked as usual; the run solves the rule
//! ([`crate::staffing`]) at every point and writes the chosen number in, the same way
//! `--set` writes a value. A number written in the file is kept as it is.

use toml::de::{DeTable, DeValue};

use super::{Override, Scenario};
use crate::input::{limits, unknown, Ctx, Diagnostic, FromCli, S};
use crate::metrics::{RepResult, M};
use crate::units::{parse_duration, DURATION_HELP};

/// What a rule judges, as the mean over the run's replications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// The stage's 95th-percentile queue wait, minutes.
    P95Wait,
    /// The stage's mean queue wait, minutes.
    MeanWait,
    /// Busy time over time on duty of the stage's people (of the people doing the work for
    /// `work.people`).
    Utilization,
    /// The policy's 95th-percentile latency, arrival to release, minutes.
    P95Latency,
    /// The policy's false alarms per `per`.
    FalseAlarms,
}

const MEASURES: &[(&str, Measure)] = &[
    ("p95_wait", Measure::P95Wait),
    ("mean_wait", Measure::MeanWait),
    ("utilization", Measure::Utilization),
    ("p95_latency", Measure::P95Latency),
    ("false_alarms", Measure::FalseAlarms),
];

impl Measure {
    pub fn name(self) -> &'static str {
        MEASURES.iter().find(|(_, m)| *m == self).map_or("", |(n, _)| n)
    }

    /// The unit of the measure and of `max` in staffing.csv.
    pub fn unit(self, per: &str) -> String {
        match self {
            Measure::P95Wait | Measure::MeanWait | Measure::P95Latency => "min".into(),
            Measure::Utilization => String::new(),
            Measure::FalseAlarms => format!("per {per}"),
        }
    }
}

/// Which number a rule sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A stage's people: reviewers, auditors, lot inspectors, people who triage.
    Reviewers,
    /// The people doing a policy's work by hand (`[policy.work] people`).
    WorkPeople,
    /// A CUSUM monitor's decision interval.
    H,
}

impl Key {
    pub fn name(self) -> &'static str {
        match self {
            Key::Reviewers => "reviewers",
            Key::WorkPeople => "people",
            Key::H => "h",
        }
    }

    /// The measures a rule for this key may judge.
    fn measures(self) -> &'static [Measure] {
        match self {
            Key::Reviewers => &[
                Measure::P95Wait,
                Measure::MeanWait,
                Measure::Utilization,
                Measure::P95Latency,
            ],
            Key::WorkPeople => &[Measure::Utilization, Measure::P95Latency],
            Key::H => &[Measure::FalseAlarms],
        }
    }

    /// A rule for this key, as TOML, for messages (a stage's stated rule is its kind's:
    /// [`crate::stages::Kind::STAFFING_RULE`]).
    pub fn example_rule(self) -> &'static str {
        use crate::stages::staffing_rule::{FALSE_ALARMS, P95_WAIT, UTILIZATION};
        match self {
            Key::Reviewers => P95_WAIT,
            Key::WorkPeople => UTILIZATION,
            Key::H => FALSE_ALARMS,
        }
    }

    /// The smallest step index (the values are `step × index`).
    pub fn min_index(self) -> i64 {
        1
    }

    /// The largest step index.
    pub fn max_index(self, step: f64) -> i64 {
        match self {
            Key::Reviewers | Key::WorkPeople => limits::MAX_REVIEWERS,
            Key::H => (1000.0 / step).floor().max(1.0) as i64,
        }
    }

    /// The value written for step index `k`, as TOML.
    pub fn toml(self, k: i64, step: f64) -> String {
        match self {
            Key::Reviewers | Key::WorkPeople => k.to_string(),
            Key::H => crate::field::format(k as f64 * step),
        }
    }
}

/// A rule: the fewest people (the smallest threshold) whose `measure` is at most `max`.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub measure: Measure,
    /// In the measure's unit: minutes, a fraction, or alarms per `per`.
    pub max: f64,
    /// `max` as written (`"15m"`, `0.85`, `2`).
    pub max_text: String,
    /// The period of a false-alarm budget, hours.
    pub per: f64,
    /// `per` as written.
    pub per_text: String,
    /// The values tried are multiples of `step` (1 for people).
    pub step: f64,
}

impl Rule {
    /// The rule in words: `p95_wait at most 15m`, `false_alarms at most 2 per 30d`.
    pub fn describe(&self) -> String {
        let per = match self.measure {
            Measure::FalseAlarms => format!(" per {}", self.per_text),
            Measure::P95Wait | Measure::MeanWait | Measure::P95Latency | Measure::Utilization => {
                String::new()
            }
        };
        format!("{} at most {}{per}", self.measure.name(), self.max_text)
    }
}

/// A rule in a scenario: where it is and what it says.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    /// The `--set` path of the number (`policy.per-action.review.reviewers`).
    pub path: String,
    /// The key path as messages name it (`policy[per-action].stage[review].reviewers`).
    pub diag: String,
    pub policy: String,
    /// The stage's name (`None` for `work.people`).
    pub stage: Option<String>,
    pub key: Key,
    pub rule: Rule,
    /// Set when the scenario is built: the policy's and stage's indices.
    pub policy_index: usize,
    pub stage_index: Option<usize>,
}

impl Site {
    /// The rule's measure in one replication (NaN when undefined, e.g. nobody waited).
    pub fn measure(&self, r: &RepResult, horizon: f64) -> f64 {
        let stage = self.stage_index.map(|s| &r.stages[s]);
        match (self.rule.measure, stage) {
            (Measure::P95Wait, Some(s)) => s.p95_wait_min,
            (Measure::MeanWait, Some(s)) => s.mean_wait_min,
            (Measure::Utilization, Some(s)) => s.utilization,
            (Measure::Utilization, None) => r.metrics[M::work_utilization],
            (Measure::P95Latency, _) => r.metrics[M::latency_p95_min],
            (Measure::FalseAlarms, _) => r.metrics[M::false_alarms] * self.rule.per / horizon,
            (Measure::P95Wait | Measure::MeanWait, None) => f64::NAN,
        }
    }

    /// The override that writes step index `k` in place of the rule.
    pub fn set(&self, k: i64) -> Override {
        let value = self.key.toml(k, self.rule.step);
        Override {
            origin: format!("the staffing rule at {} = {value}", self.diag),
            path: self.path.clone(),
            value,
        }
    }
}

/// Calls `f(path, diag, policy, stage, key, value)` for every value at a key where a rule
/// may stand (`[policy.work] people`, a stage's `reviewers` and `h`), in file order.
fn each_staffing_key(
    doc: &DeTable,
    mut f: impl FnMut(String, String, &str, Option<String>, Key, &S<DeValue>),
) {
    let policies = match doc.get("policy").map(S::get_ref) {
        Some(DeValue::Array(a)) => &a[..],
        _ => &[],
    };
    for p in policies {
        let DeValue::Table(p) = p.get_ref() else { continue };
        let Some(DeValue::String(pname)) = p.get("name").map(S::get_ref) else {
            continue;
        };
        if let Some(DeValue::Table(work)) = p.get("work").map(S::get_ref) {
            if let Some(v) = work.get("people") {
                let diag = format!("policy[{pname}].work.people");
                let path = format!("policy.{pname}.work.people");
                f(path, diag, pname, None, Key::WorkPeople, v);
            }
        }
        let stages = match p.get("stage").map(S::get_ref) {
            Some(DeValue::Array(a)) => &a[..],
            _ => &[],
        };
        for s in stages {
            let DeValue::Table(s) = s.get_ref() else { continue };
            let Some(sname) = stage_name(s) else { continue };
            for key in [Key::Reviewers, Key::H] {
                let Some(v) = s.get(key.name()) else { continue };
                let diag = format!("policy[{pname}].stage[{sname}].{}", key.name());
                let path = format!("policy.{pname}.{sname}.{}", key.name());
                f(path, diag, pname, Some(sname.clone()), key, v);
            }
        }
    }
}

/// The text with a placeholder number in place of every rule, and the rules found. Rules
/// are read from `text` as parsed by `toml`; a text that does not parse is returned as it
/// is (the parser proper reports its problem).
pub fn extract(text: &str, from_cli: &FromCli) -> (String, Vec<Site>, Vec<Diagnostic>) {
    let Ok(doc) = DeTable::parse(text) else {
        return (text.to_string(), Vec::new(), Vec::new());
    };
    let mut ctx = Ctx::new(text, from_cli);
    let mut sites = Vec::new();
    // Every table at a staffing key gets a placeholder, a rule with problems too, so that
    // its problems are the only ones said about it.
    let mut placeholders: Vec<Override> = Vec::new();
    each_staffing_key(doc.get_ref(), |path, diag, pname, stage, key, v| {
        if matches!(v.get_ref(), DeValue::Table(_)) {
            placeholders.push(Override::set(&path, "1"));
        }
        if let Some(rule) = read(&mut ctx, v, &diag, key) {
            sites.push(site(path, diag, pname, stage, key, rule));
        }
    });
    if placeholders.is_empty() {
        return (text.to_string(), sites, ctx.errors);
    }
    // A placeholder the checks accept; the run writes the chosen number in its place.
    let text = match super::overrides::apply(text, &placeholders) {
        Ok((t, _)) => t,
        Err(mut e) => {
            ctx.errors.append(&mut e);
            text.to_string()
        }
    };
    (text, sites, ctx.errors)
}

/// A number written where a staffing rule may stand.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    /// The `--set` path.
    pub path: String,
    pub policy: String,
    /// The stage's name (`None` for `work.people`).
    pub stage: Option<String>,
    pub key: Key,
    /// The number as written.
    pub value: String,
}

/// Every number written where a staffing rule may stand, in file order (`validate
/// --staffing` says what the project's rule would pick for each).
pub fn written(text: &str) -> Vec<Written> {
    let Ok(doc) = DeTable::parse(text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    each_staffing_key(doc.get_ref(), |path, _, policy, stage, key, v| {
        let value = match v.get_ref() {
            DeValue::Integer(i) => i.to_string(),
            DeValue::Float(x) => x.to_string(),
            _ => return,
        };
        let policy = policy.to_string();
        out.push(Written {
            path,
            policy,
            stage,
            key,
            value,
        });
    });
    out
}

/// A stage's name as paths use it: its `name`, or its kind with `-` for `_`.
fn stage_name(s: &DeTable) -> Option<String> {
    match (s.get("name").map(S::get_ref), s.get("kind").map(S::get_ref)) {
        (Some(DeValue::String(n)), _) => Some(n.to_string()),
        (None, Some(DeValue::String(k))) => Some(k.replace('_', "-")),
        _ => None,
    }
}

fn site(path: String, diag: String, policy: &str, stage: Option<String>, key: Key, rule: Rule) -> Site {
    Site {
        path,
        diag,
        policy: policy.to_string(),
        stage,
        key,
        rule,
        policy_index: 0,
        stage_index: None,
    }
}

/// Reads the rule at `v` if it is a table (a number is not a rule: `None`, nothing said).
fn read(ctx: &mut Ctx, v: &S<DeValue>, diag: &str, key: Key) -> Option<Rule> {
    let DeValue::Table(t) = v.get_ref() else {
        return None;
    };
    let allowed: Vec<&str> = key.measures().iter().map(|m| m.name()).collect();
    let mut keys = vec!["rule", "max"];
    if key == Key::H {
        keys.extend(["per", "step"]);
    }
    let mut ok = true;
    for (k, _) in t.iter() {
        if !keys.contains(&k.get_ref().as_ref()) {
            let head = format!("unknown key `{}` in a staffing rule", k.get_ref());
            ctx.err(
                k.span(),
                &format!("{diag}.{}", k.get_ref()),
                unknown(head, k.get_ref(), &keys, Some("a rule's keys are")),
            );
            ok = false;
        }
    }
    let what = format!("a rule such as {}", key.example_rule());
    let measure = match t.get("rule") {
        Some(r) => match r.get_ref() {
            DeValue::String(name) => match MEASURES.iter().find(|(n, _)| *n == name.as_ref()) {
                Some((_, m)) if key.measures().contains(m) => Some(*m),
                _ => {
                    let head = format!("`{name}` is not a staffing rule for `{}`", key.name());
                    ctx.err(
                        r.span(),
                        &format!("{diag}.rule"),
                        unknown(head, name, &allowed, Some("allowed")),
                    );
                    None
                }
            },
            _ => {
                let msg = format!(
                    "expected the rule's name as a string, one of: {}",
                    allowed.join(", ")
                );
                ctx.err(r.span(), &format!("{diag}.rule"), msg);
                None
            }
        },
        None => {
            ctx.missing(v.span(), diag, "rule", &what);
            None
        }
    };
    let max = match (t.get("max"), measure) {
        (None, _) => {
            ctx.missing(v.span(), diag, "max", &what);
            None
        }
        (Some(_), None) => None,
        (Some(m), Some(measure)) => read_max(ctx, m, &format!("{diag}.max"), measure),
    };
    let (per, per_text) = match t.get("per") {
        Some(p) => match p.get_ref() {
            DeValue::String(s) => match parse_duration(s) {
                Ok(h) if h > 0.0 && h <= limits::MAX_HOURS => (h, s.to_string()),
                _ => {
                    let msg = format!("`{s}` is not a period; expected {DURATION_HELP}, longer than zero");
                    ctx.err(p.span(), &format!("{diag}.per"), msg);
                    (720.0, "30d".to_string())
                }
            },
            _ => {
                let msg = format!("expected a period as a string, {DURATION_HELP}");
                ctx.err(p.span(), &format!("{diag}.per"), msg);
                (720.0, "30d".to_string())
            }
        },
        None => (720.0, "30d".to_string()),
    };
    let step = match t.get("step") {
        Some(s) => match number(s.get_ref()) {
            Some(x) if x > 0.0 && x <= 100.0 => x,
            _ => {
                let msg = "expected a number above 0 and at most 100: the thresholds tried are its multiples";
                ctx.err(s.span(), &format!("{diag}.step"), msg);
                1.0
            }
        },
        None => 1.0,
    };
    let (measure, (max, max_text)) = (measure?, max?);
    ok.then_some(Rule {
        measure,
        max,
        max_text,
        per,
        per_text,
        step,
    })
}

fn number(v: &DeValue) -> Option<f64> {
    match v {
        DeValue::Integer(i) => i.as_str().replace('_', "").parse::<f64>().ok(),
        DeValue::Float(f) => f.as_str().replace('_', "").parse::<f64>().ok(),
        _ => None,
    }
}

/// The rule's `max` in the measure's unit, and as written.
fn read_max(ctx: &mut Ctx, m: &S<DeValue>, path: &str, measure: Measure) -> Option<(f64, String)> {
    match measure {
        Measure::P95Wait | Measure::MeanWait | Measure::P95Latency => match m.get_ref() {
            DeValue::String(s) => match parse_duration(s) {
                Ok(h) if h <= limits::MAX_HOURS => Some((h * 60.0, s.to_string())),
                _ => {
                    ctx.err(
                        m.span(),
                        path,
                        format!("`{s}` is not a time; expected {DURATION_HELP}"),
                    );
                    None
                }
            },
            _ => {
                let msg = format!("expected a time as a string, {DURATION_HELP}");
                ctx.err(m.span(), path, msg);
                None
            }
        },
        Measure::Utilization => match number(m.get_ref()) {
            Some(x) if x > 0.0 && x <= 1.0 => Some((x, crate::field::format(x))),
            _ => {
                ctx.err(
                    m.span(),
                    path,
                    "expected a utilization above 0 and at most 1 (e.g. 0.85)",
                );
                None
            }
        },
        Measure::FalseAlarms => match number(m.get_ref()) {
            Some(x) if (0.0..=1e6).contains(&x) => Some((x, crate::field::format(x))),
            _ => {
                ctx.err(
                    m.span(),
                    path,
                    "expected a number of false alarms, 0 or more (e.g. 2)",
                );
                None
            }
        },
    }
}

/// Gives each site its policy's and stage's index in the built scenario; a rule on a
/// policy that `run.policies` leaves out is dropped.
pub fn resolve(sites: Vec<Site>, sc: &Scenario) -> Vec<Site> {
    sites
        .into_iter()
        .filter_map(|mut s| {
            s.policy_index = sc.policies.iter().position(|p| p.name == s.policy)?;
            let p = &sc.policies[s.policy_index];
            s.stage_index = match &s.stage {
                Some(name) => Some(p.stages.iter().position(|st| &st.name == name)?),
                None => None,
            };
            Some(s)
        })
        .collect()
}
