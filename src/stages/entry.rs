//! Which attempts enter a stage: the entry keys every kind that takes attempts shares
//! (`classes`, `sample`, `learn`, `cost`, `tier`, `difficulty_loading`), typed and checked
//! here once.

use super::{At, KindTag};
use crate::input::{unknown, Ctx, Num, S};
use crate::workload::Class;

/// The type of an entry key as written.
macro_rules! entry_key_type {
    (classes) => { Option<$crate::input::S<Vec<$crate::input::S<String>>>> };
    (sample) => { Option<$crate::input::S<$crate::input::Num>> };
    (learn) => { Option<$crate::input::S<$crate::input::Num>> };
    (cost) => { Option<$crate::input::S<$crate::input::Num>> };
    (tier) => { Option<$crate::input::S<String>> };
    (difficulty_loading) => { Option<$crate::input::S<$crate::input::Num>> };
}
pub(crate) use entry_key_type;

/// A kind's `Raw` struct: the entry keys it was declared with (`raw_stage!`).
pub trait RawStage {
    fn entry(&self) -> EntryKeys<'_>;
}

/// `tier`: which actions a stage takes by an earlier triage's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// Every action, flagged or not (the default).
    Any,
    Flagged,
    Unflagged,
}

impl Tier {
    /// Whether an action that triage flagged (`flagged`) enters.
    #[inline]
    pub fn admits(self, flagged: bool) -> bool {
        match self {
            Tier::Any => true,
            Tier::Flagged => flagged,
            Tier::Unflagged => !flagged,
        }
    }
}

/// A set of workload classes, by index (at most [`crate::input::limits::MAX_CLASSES`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassSet(pub u64);

impl ClassSet {
    pub fn all(n: usize) -> ClassSet {
        ClassSet(if n >= 64 { u64::MAX } else { (1u64 << n) - 1 })
    }
    #[inline]
    pub fn contains(self, class: usize) -> bool {
        self.0 >> class & 1 == 1
    }

    /// The classes a list names (`classes = ["high-impact"]` at `path`); an unknown name
    /// is a problem naming the classes there are.
    pub fn parse(ctx: &mut Ctx, list: &S<Vec<S<String>>>, path: &str, classes: &[Class]) -> ClassSet {
        let names: Vec<&str> = classes.iter().map(|k| k.name.as_str()).collect();
        let mut set = 0u64;
        for c in list.get_ref() {
            match names.iter().position(|k| k == c.get_ref()) {
                Some(ci) => set |= 1 << ci,
                None => {
                    let head = format!("no class named `{}`", c.get_ref());
                    let msg = unknown(head, c.get_ref(), &names, Some("classes are"));
                    ctx.err(c.span(), path, msg);
                }
            }
        }
        ClassSet(set)
    }
}

/// The entry keys: which attempts enter a stage, what its findings teach, what an entry
/// costs (`EntryKeys`' fields, in order).
pub const ENTRY_KEYS: [&str; 6] = ["classes", "sample", "learn", "cost", "tier", "difficulty_loading"];

/// The entry keys of a stage as written; a kind without them (monitors) has none. The
/// field names are the keys.
#[derive(Default)]
pub struct EntryKeys<'a> {
    pub classes: Option<&'a S<Vec<S<String>>>>,
    pub sample: Option<&'a S<Num>>,
    pub learn: Option<&'a S<Num>>,
    pub cost: Option<&'a S<Num>>,
    pub tier: Option<&'a S<String>>,
    pub difficulty_loading: Option<&'a S<Num>>,
}

/// Which attempts enter a stage, what each of its findings teaches the agent, and what
/// each entry costs.
pub(super) struct Entry {
    pub classes: ClassSet,
    pub sample: f64,
    pub learn: f64,
    pub cost: f64,
    pub tier: Tier,
    pub difficulty_loading: Option<f64>,
}

impl Entry {
    pub(super) fn parse(ctx: &mut Ctx, keys: EntryKeys, at: &At) -> Entry {
        let classes = match keys.classes {
            None => ClassSet::all(at.classes.len()),
            Some(list) => ClassSet::parse(ctx, list, &at.key("classes"), at.classes),
        };
        let sample = keys.sample.map_or(1.0, |v| ctx.prob(v, &at.key("sample")));
        let learn = keys.learn.map_or(0.0, |v| {
            ctx.range(
                v,
                &at.key("learn"),
                0.0,
                1.0,
                "a probability in [0, 1] that a defect the stage finds has its root cause fixed",
            )
        });
        let cost = keys.cost.map_or(0.0, |v| {
            ctx.range(
                v,
                &at.key("cost"),
                0.0,
                1e12,
                "a non-negative amount of money per attempt",
            )
        });
        let tier = match keys.tier {
            None => Tier::Any,
            Some(v) => {
                let tiers = [("flagged", Tier::Flagged), ("unflagged", Tier::Unflagged)];
                let tier = ctx.choice(v, &at.key("tier"), &tiers).unwrap_or(Tier::Any);
                let triaged = at.kinds[..at.index].contains(&Some(KindTag::Triage));
                if tier != Tier::Any && !triaged {
                    ctx.err(
                        v.span(),
                        &at.key("tier"),
                        "`tier` needs a triage stage (kind = \"triage\") earlier in this policy",
                    );
                }
                tier
            }
        };
        let difficulty_loading = keys.difficulty_loading.map(|v| {
            ctx.range(
                v,
                &at.key("difficulty_loading"),
                -1.0,
                1.0,
                "a loading in [-1, 1] of the stage's misses on the latent difficulty",
            )
        });
        Entry {
            classes,
            sample,
            learn,
            cost,
            tier,
            difficulty_loading,
        }
    }
}
