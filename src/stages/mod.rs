//! The stages of a policy, one module per kind. Each kind module holds everything about
//! its kind: the keys it takes (its `Raw` struct, the one list of them), their defaults and
//! checks, its offered-load rule, and its run-time state. The engine drives the run-time
//! state through events; nothing here schedules anything.
//!
//! A kind is declared by implementing [`Kind`] and naming it once in the `kinds!` list
//! below; the compiler then points at every match over [`StageKind`] that must handle it.

pub mod audit;
pub mod change;
pub mod chart;
pub mod check;
pub mod desk;
pub mod entry;
pub mod flag;
pub mod llm_judge;
pub mod lots;
pub mod monitor;
pub mod review;
pub mod review_pool;
pub mod shifts;
pub mod skill;
pub mod triage;

pub use audit::{Audit, AuditItem, AuditPool};
pub use change::{Change, Mind};
pub use chart::{AutoP0, Chart, ChartState};
pub use check::AutomatedCheck;
pub use desk::Desk;
pub(crate) use entry::entry_key_type;
use entry::Entry;
pub use entry::{ClassSet, EntryKeys, RawStage, Tier, ENTRY_KEYS};
pub use flag::{Flagging, OnFlag};
pub use llm_judge::LlmJudge;
pub use lots::{AcceptanceSampling, Lot, LotPool};
pub use monitor::Monitor;
pub use review::{review_detect, Discipline, Fatigue, HumanReview, OnTimeout, Pressure};
pub use review_pool::{ReviewPool, Reviewer, ReviewerState};
pub use shifts::split;
pub use shifts::Shifts;
pub use skill::{Detection, Skill};
pub use triage::{Triage, TriageDesk};

use std::ops::Range;

use serde::de::{DeserializeOwned, IntoDeserializer};
use toml::de::DeValue;

use crate::dist::{Dist, RawDist};
use crate::input::{explain_serde_message, keys_of, limits, unknown, Ctx, Diagnostic, Num, S};
use crate::metrics::StageResult;
use crate::workload::Class;

/// What a stage kind declares. Implemented once per kind, in the kind's module.
pub trait Kind: Sized {
    /// The value of `kind` that selects it, e.g. `"human_review"`.
    const NAME: &'static str;
    /// The stage's table as written (`raw_stage!`: serde, `deny_unknown_fields`, with
    /// `kind`, `name` and the entry keys the kind takes): the one list of the kind's keys.
    type Raw: DeserializeOwned + RawStage;
    /// Checks the kind's keys and builds its settings; problems go to `ctx`.
    fn build(ctx: &mut Ctx, raw: &Self::Raw, at: &At) -> Self;
    /// What the stage does, as the engine sees it ([`Role`]).
    fn role(&self) -> Role<'_>;
    /// Offered load λ·E\[S\]/c of the stage's people, if it has any.
    fn offered_load(&self, stage: &Stage, load: &LoadAt) -> Option<f64>;
    /// The kind's keys that the browser lab offers as sliders.
    const LEVERS: &'static [Lever];
    /// The project's stated staffing rule (docs/staffing.md) for the stage's people or
    /// threshold, as TOML: what `validate --staffing` solves in place of a written number.
    const STAFFING_RULE: Option<&'static str>;
}

/// What a stage does, as the engine, the load rules and the checks see it: the capability
/// its kind provides. Kinds that do the same thing share a role and with it every line of
/// engine code (an automated check and an LLM judge both flag attempts); a kind that does
/// something new adds a role, and the compiler then points at every match over roles,
/// each a place where its behaviour must be chosen.
#[derive(Debug, Clone, Copy)]
pub enum Role<'a> {
    /// Flags attempts, at once or after a delay, with no queue (infinite servers); a flag
    /// rejects the attempt or escalates it to a later review.
    Flag(&'a Flagging),
    /// Marks each action for a later stage's `tier`, automatically or by people.
    Triage(&'a Triage),
    /// People who review attempts from a queue before release.
    Review(&'a HumanReview),
    /// People who inspect a sample of each lot (held before release, or of released work).
    Lots(&'a AcceptanceSampling),
    /// People who audit a sample of released work.
    Audit(&'a Audit),
    /// A control chart over other stages' findings.
    Monitor(&'a Monitor),
}

impl<'a> Role<'a> {
    /// Whether attempts pass through the stage before release (checks, reviews, held
    /// lots), or it acts on what was released (audits, monitors, lots of released work).
    pub fn pre_release(self) -> bool {
        match self {
            Role::Flag(_) | Role::Triage(_) | Role::Review(_) => true,
            Role::Lots(a) => a.hold,
            Role::Audit(_) | Role::Monitor(_) => false,
        }
    }

    /// Whether people make the stage's findings (reviewers, lot inspectors, auditors,
    /// triage staff), or a tool does (checks, judges, automated triage, charts): a
    /// culture's `reporting` or `tool_reporting` applies to them.
    pub fn by_people(self) -> bool {
        match self {
            Role::Review(_) | Role::Lots(_) | Role::Audit(_) => true,
            Role::Triage(t) => t.people.is_some(),
            Role::Flag(_) | Role::Monitor(_) => false,
        }
    }

    /// How the stage's people change (nothing for stages without people).
    pub fn change(self) -> Option<&'a Change> {
        match self {
            Role::Review(h) => Some(&h.change),
            Role::Lots(a) => Some(&a.change),
            Role::Audit(a) => Some(&a.change),
            Role::Triage(t) => Some(&t.change),
            Role::Flag(_) | Role::Monitor(_) => None,
        }
    }

    /// Whether the stage takes released attempts (audits, lots of released work).
    pub fn takes_released(self) -> bool {
        match self {
            Role::Audit(_) => true,
            Role::Lots(a) => !a.hold,
            Role::Flag(_) | Role::Triage(_) | Role::Review(_) | Role::Monitor(_) => false,
        }
    }
}

/// The stated staffing rules the kinds choose from (docs/staffing.md).
pub mod staffing_rule {
    pub const P95_WAIT: &str = "{ rule = \"p95_wait\", max = \"15m\" }";
    pub const UTILIZATION: &str = "{ rule = \"utilization\", max = 0.85 }";
    pub const P95_LATENCY_24H: &str = "{ rule = \"p95_latency\", max = \"24h\" }";
    pub const FALSE_ALARMS: &str = "{ rule = \"false_alarms\", max = 2, per = \"30d\" }";
}

/// A key of a stage kind offered as a slider: `key` of the stage, with a label (the stage's
/// name follows it) and the slider's range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lever {
    pub key: &'static str,
    pub label: &'static str,
    pub min: f64,
    pub max: f64,
    pub step: f64,
}

/// Declares the stage kinds: the [`StageKind`] enum of their settings, the [`KindTag`]
/// that `kind = "..."` parses into, and the dispatch from one to the other.
macro_rules! kinds {
    ($($variant:ident($ty:ty)),* $(,)?) => {
        /// A stage's kind and its settings.
        #[derive(Debug, Clone)]
        pub enum StageKind {
            $($variant($ty)),*
        }

        /// A stage kind without settings: what `kind = "..."` names.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum KindTag {
            $($variant),*
        }

        impl KindTag {
            /// Every kind with the name that selects it.
            pub const ALL: &'static [(&'static str, KindTag)] =
                &[$((<$ty as Kind>::NAME, KindTag::$variant)),*];

            pub fn name(self) -> &'static str {
                match self {
                    $(KindTag::$variant => <$ty as Kind>::NAME),*
                }
            }

            /// The keys a stage of this kind takes.
            pub fn keys(self) -> &'static [&'static str] {
                match self {
                    $(KindTag::$variant => keys_of::<<$ty as Kind>::Raw>()),*
                }
            }

            /// Reads and checks a stage of this kind from its table.
            fn build(self, ctx: &mut Ctx, table: &S<DeValue>, at: &At) -> Option<(StageKind, Entry)> {
                match self {
                    $(KindTag::$variant => {
                        let raw = read::<<$ty as Kind>::Raw>(ctx, table, at, self)?;
                        let entry = Entry::parse(ctx, raw.entry(), at);
                        let kind = <$ty as Kind>::build(ctx, &raw, at);
                        Some((StageKind::$variant(kind), entry))
                    })*
                }
            }
        }

        impl StageKind {
            pub fn tag(&self) -> KindTag {
                match self {
                    $(StageKind::$variant(_) => KindTag::$variant),*
                }
            }

            /// What the stage does ([`Kind::role`]).
            #[inline]
            pub fn role(&self) -> Role<'_> {
                match self {
                    $(StageKind::$variant(k) => k.role()),*
                }
            }

            /// The kind's keys offered as sliders ([`Kind::LEVERS`]).
            pub fn levers(&self) -> &'static [Lever] {
                match self {
                    $(StageKind::$variant(_) => <$ty as Kind>::LEVERS),*
                }
            }

            /// The project's stated staffing rule for the stage ([`Kind::STAFFING_RULE`]).
            pub fn staffing_rule(&self) -> Option<&'static str> {
                match self {
                    $(StageKind::$variant(_) => <$ty as Kind>::STAFFING_RULE),*
                }
            }

            /// Offered load of the stage's people, if it has any.
            pub fn offered_load(&self, stage: &Stage, load: &LoadAt) -> Option<f64> {
                match self {
                    $(StageKind::$variant(k) => k.offered_load(stage, load)),*
                }
            }
        }
    };
}

kinds! {
    AutomatedCheck(AutomatedCheck),
    HumanReview(HumanReview),
    Audit(Audit),
    Monitor(Monitor),
    Triage(Triage),
    AcceptanceSampling(AcceptanceSampling),
    LlmJudge(LlmJudge),
}

/// Declares a kind's `Raw` struct: the keys `kind` and `name` every stage has, the entry
/// keys the kind takes (in brackets, named as in [`EntryKeys`], each typed here once), then
/// the kind's own keys.
macro_rules! raw_stage {
    ($(#[$meta:meta])* $name:ident [$($entry:ident),* $(,)?] { $($(#[$fmeta:meta])* $field:ident: $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            pub kind: $crate::input::S<String>,
            pub name: Option<$crate::input::S<String>>,
            $(pub $entry: $crate::stages::entry_key_type!($entry),)*
            $($(#[$fmeta])* pub $field: $ty),*
        }

        impl $crate::stages::RawStage for $name {
            #[allow(clippy::needless_update)]
            fn entry(&self) -> $crate::stages::EntryKeys<'_> {
                $crate::stages::EntryKeys {
                    $($entry: self.$entry.as_ref(),)*
                    ..Default::default()
                }
            }
        }
    };
}
pub(crate) use raw_stage;

impl StageKind {
    /// The kind's name as written in scenario files and stages.csv.
    pub fn label(&self) -> &'static str {
        self.tag().name()
    }
}

/// A stage of a policy.
#[derive(Debug, Clone)]
pub struct Stage {
    pub name: String,
    /// Classes that enter this stage (others skip it unless escalated to it).
    pub classes: ClassSet,
    /// Fraction of eligible attempts that enter.
    pub sample: f64,
    /// The probability that a defect the stage finds has its root cause fixed (learning).
    pub learn: f64,
    /// Money per attempt that enters the stage (e.g. an LLM-judge call).
    pub cost: f64,
    /// Which side of an earlier triage the stage takes.
    pub tier: Tier,
    /// How the stage's misses follow the attempt's latent difficulty, in [-1, 1]; `None`
    /// takes √r from `workload.detection_correlation`.
    pub difficulty_loading: Option<f64>,
    pub kind: StageKind,
}

/// Where a stage is being checked: its key path and table, its place in the policy, the
/// policy's other stages and the workload's classes.
pub struct At<'a> {
    /// `policy[NAME].stage[NAME]`.
    pub path: &'a str,
    pub span: Range<usize>,
    pub index: usize,
    /// Names of the policy's stages, in order.
    pub names: &'a [String],
    /// Kinds of the policy's stages (`None` where `kind` was not valid).
    pub kinds: &'a [Option<KindTag>],
    pub classes: &'a [Class],
    /// Names of the workload's defect kinds.
    pub defect_kinds: &'a [String],
}

impl At<'_> {
    /// The key path of one of the stage's keys.
    pub fn key(&self, key: &str) -> String {
        format!("{}.{key}", self.path)
    }

    /// The stage named `target` (for references such as `escalate_to` and `watch`), or a
    /// problem at `span` naming the stages there are.
    pub fn stage_named(&self, ctx: &mut Ctx, target: &S<String>, key: &str) -> Option<usize> {
        let name = target.get_ref();
        let found = self.names.iter().position(|n| n == name);
        if found.is_none() {
            let names: Vec<&str> = self.names.iter().map(String::as_str).collect();
            let head = format!("no stage named `{name}` in this policy");
            ctx.err(
                target.span(),
                &self.key(key),
                unknown(head, name, &names, Some("stages are")),
            );
        }
        found
    }
}

/// What the offered-load rules need: the mean arrival rate, the classes and the policy.
pub struct LoadAt<'a> {
    pub lambda: f64,
    pub classes: &'a [Class],
    pub stages: &'a [Stage],
    pub index: usize,
}

impl LoadAt<'_> {
    /// The share of class `class`'s actions that `stage`'s `tier` lets in: all, or those an
    /// earlier triage stage flags (or does not flag) with its probability for the class.
    pub fn tier_share(&self, stage: &Stage, class: usize) -> f64 {
        let flag = || {
            (self.stages[..self.index].iter().rev())
                .find_map(|s| {
                    if let StageKind::Triage(t) = &s.kind {
                        Some(t.flag[class])
                    } else {
                        None
                    }
                })
                .unwrap_or(0.0)
        };
        match stage.tier {
            Tier::Any => 1.0,
            Tier::Flagged => flag(),
            Tier::Unflagged => 1.0 - flag(),
        }
    }
}

/// Reads and checks stage `at.index` of a policy, of kind `tag`, from its table `table`
/// (a value of the parsed document, so every key keeps its position). `None` if its keys
/// could not be read; the problem is in `ctx`.
pub fn build(ctx: &mut Ctx, tag: KindTag, table: &S<DeValue>, at: &At) -> Option<Stage> {
    let (kind, entry) = tag.build(ctx, table, at)?;
    Some(Stage {
        name: at.names[at.index].clone(),
        classes: entry.classes,
        sample: entry.sample,
        learn: entry.learn,
        cost: entry.cost,
        tier: entry.tier,
        difficulty_loading: entry.difficulty_loading,
        kind,
    })
}

/// Deserialises a kind's raw table. An unknown key gets the keys of this kind only, or,
/// for a key of another kind, says so.
fn read<T: DeserializeOwned>(ctx: &mut Ctx, table: &S<DeValue>, at: &At, tag: KindTag) -> Option<T> {
    let de = table.clone().into_deserializer();
    let e = match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(raw) => return Some(raw),
        Err(e) => e,
    };
    let mut path = at.path.to_string();
    for seg in e.path().iter() {
        use serde_path_to_error::Segment;
        match seg {
            Segment::Map { key } if key.starts_with("$__") => {}
            Segment::Map { key } => path = format!("{path}.{key}"),
            Segment::Seq { index } => path = format!("{path}[{index}]"),
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    let inner = e.into_inner();
    let line = Some(ctx.line(inner.span().unwrap_or(at.span.clone()).start));
    let raw_message = inner.message();
    let other_kind = raw_message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(field, _)| field)
        // At the stage's own level (serde's path may end at the key or before it).
        .filter(|field| path == at.path || path == at.key(field))
        .filter(|field| KindTag::ALL.iter().any(|(_, k)| k.keys().contains(field)));
    let message = match other_kind {
        Some(field) => {
            path = at.key(field);
            format!(
                "`{field}` is not a key of kind \"{}\"; allowed keys: {}",
                tag.name(),
                tag.keys().join(", ")
            )
        }
        None => explain_serde_message(raw_message),
    };
    ctx.errors.push(Diagnostic { line, path, message });
    None
}

/// The people of a review or audit stage: `reviewers` and a `service` time with a mean
/// above zero (`who` names them in messages: "reviewers", "auditors").
pub fn staffing(
    ctx: &mut Ctx,
    at: &At,
    reviewers: &Option<S<i64>>,
    service: &Option<S<RawDist>>,
    who: &str,
    example_mean: &str,
) -> (u32, Dist) {
    let reviewers = match reviewers {
        Some(v) => ctx.int(v, &at.key("reviewers"), 1, limits::MAX_REVIEWERS) as u32,
        None => {
            ctx.missing(
                at.span.clone(),
                at.path,
                "reviewers",
                &format!("a number of {who}, at least 1"),
            );
            1
        }
    };
    let service = match service {
        Some(d) => Dist::parse(ctx, d, &at.key("service"), true),
        None => {
            let example = format!(
                "a time distribution such as {{ dist = \"lognormal\", mean = \"{example_mean}\", cv = 1.0 }}"
            );
            ctx.missing(at.span.clone(), at.path, "service", &example);
            Dist::constant(1.0)
        }
    };
    if service.mean() <= 0.0 {
        ctx.err(
            at.span.clone(),
            &at.key("service"),
            format!("{who} must take some time; the mean must be above zero"),
        );
    }
    (reviewers, service)
}

/// A detection probability every inspecting stage must have.
pub fn detect(ctx: &mut Ctx, at: &At, v: &Option<S<Num>>) -> f64 {
    match v {
        Some(d) => ctx.prob(d, &at.key("detect")),
        None => {
            ctx.missing(at.span.clone(), at.path, "detect", "a probability in [0, 1]");
            0.0
        }
    }
}

/// Counters of one stage over the measured window.
#[derive(Debug, Clone, Default)]
pub struct StageCounts {
    pub entered: u64,
    pub passed: u64,
    pub flagged: u64,
    pub caught: u64,
    pub timeouts: u64,
    pub completed: u64,
}

impl StageCounts {
    /// The stage's row, with the queue figures of its people where it has them.
    pub fn result(&self, people: Option<(f64, f64, f64, f64)>) -> StageResult {
        let (utilization, mean_queue, mean_wait_min, p95_wait_min) =
            people.unwrap_or((f64::NAN, f64::NAN, f64::NAN, f64::NAN));
        StageResult {
            entered: self.entered as f64,
            passed: self.passed as f64,
            flagged: self.flagged as f64,
            caught: self.caught as f64,
            timeouts: self.timeouts as f64,
            utilization,
            mean_queue,
            mean_wait_min,
            p95_wait_min,
            blame_events: 0.0,
            blame_max_person: 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"name = "t"
[workload]
rate = "40/h"
[[workload.class]]
name = "a"
share = 1.0
defect_prob = 0.1
[[policy]]
name = "p"
[[policy.stage]]
kind = "automated_check"
name = "tests"
detect = 0.5
"#;

    fn errors(extra: &str) -> String {
        match crate::scenario::load("t.toml", &format!("{TEXT}{extra}\n"), &[]) {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn every_kind_declares_its_keys_once() {
        for (name, tag) in KindTag::ALL {
            assert_eq!(tag.name(), *name);
            let keys = tag.keys();
            assert_eq!(&keys[..2], ["kind", "name"], "{name}");
            let mut sorted = keys.to_vec();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), keys.len(), "{name}: a key listed twice");
        }
    }

    #[test]
    fn the_entry_keys_are_listed_once() {
        // A check takes every entry key; `raw_stage!` puts them after `kind` and `name`.
        assert_eq!(KindTag::AutomatedCheck.keys()[2..8], ENTRY_KEYS);
    }

    #[test]
    fn an_unknown_key_lists_only_its_kinds_keys() {
        let e = errors("detec = 0.5");
        assert!(
            e.contains(
                "t.toml:14: policy[p].stage[tests].detec: unknown key `detec`; did you mean `detect`?"
            ),
            "{e}"
        );
        let listed = e.split("allowed keys: ").nth(1).unwrap_or_default();
        assert_eq!(listed, KindTag::AutomatedCheck.keys().join(", "), "{e}");
        assert!(!listed.contains("reviewers"), "{e}");
        // A key of another kind says so.
        let e = errors("fatigue = { tau = \"1h\", floor = 0.5 }");
        assert!(
            e.contains("policy[p].stage[tests].fatigue: `fatigue` is not a key of kind \"automated_check\""),
            "{e}"
        );
    }
}
