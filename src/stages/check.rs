//! `kind = "automated_check"`: an automated check (tests, a classifier, a policy engine)
//! that flags attempts, at once or after a delay, with no queue (infinite servers).

use super::skill::{detection, RawDetect};
use super::{raw_stage, At, Detection, EntryKeys, Kind, KindTag, Lever, LoadAt, Stage};
use crate::dist::{Dist, RawDist};
use crate::input::{Ctx, Num, S};

#[derive(Debug, Clone)]
pub struct AutomatedCheck {
    /// Delay of an infinite-server check; `None` is instantaneous.
    pub service: Option<Dist>,
    pub detect: Detection,
    pub false_positive: f64,
    pub on_flag: OnFlag,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFlag {
    Reject,
    /// Send to the human stage with this index (always later in the policy).
    Escalate(usize),
}

raw_stage! {
    /// An automated check as written.
    RawCheck {
        classes: Option<S<Vec<S<String>>>>,
        sample: Option<S<Num>>,
        service: Option<S<RawDist>>,
        detect: Option<S<RawDetect>>,
        false_positive: Option<S<Num>>,
        on_flag: Option<S<String>>,
        escalate_to: Option<S<String>>,
        learn: Option<S<Num>>,
        cost: Option<S<Num>>,
        tier: Option<S<String>>,
        difficulty_loading: Option<S<Num>>,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FlagAction {
    Reject,
    Escalate,
}

impl Kind for AutomatedCheck {
    // A check has no people and no threshold a rule sets.
    const STAFFING_RULE: Option<&'static str> = None;
    const LEVERS: &'static [Lever] = &[Lever {
        key: "detect",
        label: "check detection",
        min: 0.05,
        max: 0.99,
        step: 0.01,
    }];
    const NAME: &'static str = "automated_check";
    type Raw = RawCheck;

    fn pre_release(&self) -> bool {
        true
    }

    fn entry(r: &RawCheck) -> EntryKeys<'_> {
        EntryKeys {
            classes: r.classes.as_ref(),
            sample: r.sample.as_ref(),
            learn: r.learn.as_ref(),
            cost: r.cost.as_ref(),
            tier: r.tier.as_ref(),
            difficulty_loading: r.difficulty_loading.as_ref(),
        }
    }

    fn build(ctx: &mut Ctx, r: &RawCheck, at: &At) -> AutomatedCheck {
        let detect = detection(ctx, at, &r.detect);
        let service = r
            .service
            .as_ref()
            .map(|d| Dist::parse(ctx, d, &at.key("service"), true));
        let choices = [("reject", FlagAction::Reject), ("escalate", FlagAction::Escalate)];
        let action = r
            .on_flag
            .as_ref()
            .map(|v| (v, ctx.choice(v, &at.key("on_flag"), &choices)));
        let on_flag = match (action, &r.escalate_to) {
            (Some((_, Some(FlagAction::Escalate))), Some(t)) => OnFlag::Escalate(escalation(ctx, at, t)),
            (Some((v, Some(FlagAction::Escalate))), None) => {
                ctx.missing(
                    v.span(),
                    at.path,
                    "escalate_to",
                    "the name of a later human_review stage",
                );
                OnFlag::Reject
            }
            (_, target) => {
                if let Some(t) = target {
                    ctx.err(
                        t.span(),
                        &at.key("escalate_to"),
                        "`escalate_to` needs on_flag = \"escalate\"",
                    );
                }
                OnFlag::Reject
            }
        };
        AutomatedCheck {
            service,
            detect,
            false_positive: ctx.opt_prob(&r.false_positive, &at.key("false_positive"), 0.0),
            on_flag,
        }
    }

    fn offered_load(&self, _: &Stage, _: &LoadAt) -> Option<f64> {
        None // infinite servers: no one to load
    }
}

/// The index of the later human review that `escalate_to` names.
fn escalation(ctx: &mut Ctx, at: &At, t: &S<String>) -> usize {
    let target = t.get_ref();
    match at.stage_named(ctx, t, "escalate_to") {
        None => 0,
        Some(j) if j <= at.index => {
            ctx.err(t.span(), &at.key("escalate_to"), format!("`{target}` does not come after this stage; escalation must go to a later human_review stage"));
            0
        }
        Some(j) if at.kinds[j] != Some(KindTag::HumanReview) => {
            ctx.err(t.span(), &at.key("escalate_to"), format!("`{target}` is not a human_review stage; escalation must go to a later human_review stage"));
            0
        }
        Some(j) => j,
    }
}

impl AutomatedCheck {
    /// The probability that an attempt of a class with defect probability `p`, whose
    /// defects are of kind `k` with probability `kind_shares[k]`, is flagged.
    pub fn flag_prob(&self, p: f64, kind_shares: &[f64]) -> f64 {
        let d: f64 = (kind_shares.iter().enumerate())
            .map(|(k, s)| s * self.detect.of(k))
            .sum();
        p * d + (1.0 - p) * self.false_positive
    }
}
