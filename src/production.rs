//! Who does a policy's work (`[policy.work]`): the agent, or people by hand, for every
//! class or for the classes `classes` names (the agent doing the rest). By hand is a
//! policy like any other: its attempts pass the same kinds of stages, are reworked the same
//! way, and are judged on the same metrics, so the status quo an agent must beat is in the
//! comparison. People make their own errors (a defect probability per class, fixed: no drift
//! and no learning), take time (a FIFO desk of `people`, always on duty) and are paid for
//! every hour on duty.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::dist::{Dist, RawDist};
use crate::input::{limits, unknown, Ctx, Num, S};
use crate::stages::ClassSet;
use crate::workload::Class;

/// Who does a policy's work, and what each attempt costs.
#[derive(Debug, Clone, Default)]
pub struct Production {
    pub by: Producer,
    /// Money per attempt the agent makes (its model calls).
    pub cost_per_action: f64,
}

/// Who does a policy's work, as decision.csv's `by` column writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Who {
    #[serde(rename = "agent")]
    Agent,
    /// Every class by hand.
    #[serde(rename = "people")]
    People,
    /// Some classes by hand, the others by the agent.
    #[serde(rename = "agent and people")]
    Both,
}

/// The agent, or people by hand.
#[derive(Debug, Clone, Default)]
pub enum Producer {
    /// The agent: an attempt is made the moment its action arrives, with the workload's
    /// defect probabilities (and their drift and learning).
    #[default]
    Agent,
    People(Box<People>),
}

/// People doing the work by hand.
#[derive(Debug, Clone)]
pub struct People {
    /// The classes people do; the agent does the others.
    pub classes: ClassSet,
    /// Workers serving one FIFO queue, always on duty.
    pub people: u32,
    /// A person's time per attempt.
    pub service: Dist,
    /// By class index: the probability that a person's attempt is defective.
    pub defect_prob: Vec<f64>,
    /// Money per person-hour on duty.
    pub hour_cost: f64,
}

impl Production {
    /// The people doing the work, if any of it is done by hand.
    pub fn people(&self) -> Option<&People> {
        match &self.by {
            Producer::Agent => None,
            Producer::People(p) => Some(p),
        }
    }

    /// The people who do class `class`, if it is done by hand.
    #[inline]
    pub fn people_for(&self, class: usize) -> Option<&People> {
        self.people().filter(|p| p.classes.contains(class))
    }

    /// Whether every class is done by hand (the agent does nothing).
    pub fn all_by_hand(&self, classes: usize) -> bool {
        self.people().is_some_and(|p| p.classes == ClassSet::all(classes))
    }

    /// Who does the work, of a workload of `classes` classes.
    pub fn who(&self, classes: usize) -> Who {
        match (self.people(), self.all_by_hand(classes)) {
            (None, _) => Who::Agent,
            (Some(_), true) => Who::People,
            (Some(_), false) => Who::Both,
        }
    }

    /// Offered load λ·E\[S\]/c of the people doing the work, if any (a lower bound: rework
    /// attempts come back).
    pub fn offered_load(&self, lambda: f64, classes: &[Class]) -> Option<f64> {
        let p = self.people()?;
        let share: f64 = (classes.iter().enumerate())
            .filter(|(i, _)| p.classes.contains(*i))
            .map(|(_, c)| c.share)
            .sum();
        Some(lambda * share * p.service.mean() / p.people as f64)
    }
}

/// `[policy.work]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWork {
    pub by: Option<S<String>>,
    pub people: Option<S<i64>>,
    pub service: Option<S<RawDist>>,
    pub defect_prob: Option<S<BTreeMap<String, S<Num>>>>,
    pub classes: Option<S<Vec<S<String>>>>,
    pub hour_cost: Option<S<Num>>,
    pub cost_per_action: Option<S<Num>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum By {
    Agent,
    People,
}

const BY: &[(&str, By)] = &[("agent", By::Agent), ("people", By::People)];

impl Production {
    /// Checks `[policy.work]` at `path`; people are paid `reviewer_hour` unless the table
    /// says `hour_cost`. Problems go to `ctx`.
    pub fn parse(
        ctx: &mut Ctx,
        w: &S<RawWork>,
        path: &str,
        classes: &[Class],
        reviewer_hour: f64,
    ) -> Production {
        let span = w.span();
        let r = w.get_ref();
        let key = |k: &str| format!("{path}.{k}");
        let by = match &r.by {
            Some(v) => match ctx.choice(v, &key("by"), BY) {
                Some(by) => by,
                None => return Production::default(), // the rest depends on who
            },
            None => By::Agent,
        };
        let cost_per_action = r.cost_per_action.as_ref().map_or(0.0, |v| {
            ctx.range(
                v,
                &key("cost_per_action"),
                0.0,
                1e12,
                "a non-negative amount of money per attempt",
            )
        });
        let by = match by {
            By::Agent => {
                let people_keys = [
                    ("people", r.people.as_ref().map(S::span)),
                    ("service", r.service.as_ref().map(S::span)),
                    ("defect_prob", r.defect_prob.as_ref().map(S::span)),
                    ("classes", r.classes.as_ref().map(S::span)),
                    ("hour_cost", r.hour_cost.as_ref().map(S::span)),
                ];
                for (k, sp) in people_keys {
                    if let Some(sp) = sp {
                        ctx.err(
                            sp,
                            &key(k),
                            format!("is for work done by hand; set `by = \"people\"` to use it, or remove `{k}` (the agent takes `cost_per_action` only)"),
                        );
                    }
                }
                Producer::Agent
            }
            By::People => {
                let people = match &r.people {
                    Some(v) => ctx.int(v, &key("people"), 1, limits::MAX_REVIEWERS) as u32,
                    None => {
                        ctx.missing(
                            span.clone(),
                            path,
                            "people",
                            "the number of people doing the work, at least 1",
                        );
                        1
                    }
                };
                let service = match &r.service {
                    Some(d) => Dist::parse(ctx, d, &key("service"), true),
                    None => {
                        ctx.missing(
                            span.clone(),
                            path,
                            "service",
                            "a person's time per action, e.g. { dist = \"lognormal\", mean = \"30m\", cv = 1.0 }",
                        );
                        Dist::constant(1.0)
                    }
                };
                if service.mean() <= 0.0 {
                    ctx.err(
                        span.clone(),
                        &key("service"),
                        "people must take some time per action; the mean must be above zero",
                    );
                }
                let set = match &r.classes {
                    Some(list) => ClassSet::parse(ctx, list, &key("classes"), classes),
                    None => ClassSet::all(classes.len()),
                };
                let defect_prob = class_probs(ctx, &r.defect_prob, span.clone(), path, classes, set);
                let hour_cost = r.hour_cost.as_ref().map_or(reviewer_hour, |v| {
                    ctx.range(
                        v,
                        &key("hour_cost"),
                        0.0,
                        1e12,
                        "a non-negative amount of money per person-hour",
                    )
                });
                Producer::People(Box::new(People {
                    classes: set,
                    people,
                    service,
                    defect_prob,
                    hour_cost,
                }))
            }
        };
        Production { by, cost_per_action }
    }
}

/// People's defect probability for every class, by class index; each class people do
/// (`set`) must be named.
fn class_probs(
    ctx: &mut Ctx,
    table: &Option<S<BTreeMap<String, S<Num>>>>,
    span: std::ops::Range<usize>,
    path: &str,
    classes: &[Class],
    set: ClassSet,
) -> Vec<f64> {
    let names: Vec<&str> = classes.iter().map(|c| c.name.as_str()).collect();
    let mut out = vec![f64::NAN; classes.len()];
    let what = "a table of class name to the probability that people's attempt at it is defective, with every class people do, e.g. { routine = 0.01, high-impact = 0.05 }";
    let Some(table) = table else {
        ctx.missing(span, path, "defect_prob", what);
        return vec![0.0; classes.len()];
    };
    for (class, p) in table.get_ref() {
        let key = format!("{path}.defect_prob.{class}");
        match names.iter().position(|n| n == class) {
            Some(ci) => out[ci] = ctx.prob(p, &key),
            None => {
                let head = format!("no class named `{class}`");
                ctx.err(p.span(), &key, unknown(head, class, &names, Some("classes are")));
            }
        }
    }
    let absent: Vec<&str> = (names.iter().zip(&out).enumerate())
        .filter(|(i, (_, p))| p.is_nan() && set.contains(*i))
        .map(|(_, (n, _))| *n)
        .collect();
    if !absent.is_empty() {
        ctx.err(
            table.span(),
            &format!("{path}.defect_prob"),
            format!(
                "names no probability for class {}; expected {what}",
                absent.join(", ")
            ),
        );
    }
    out.into_iter()
        .map(|p| if p.is_nan() { 0.0 } else { p })
        .collect()
}
