//! What every stage that flags attempts shares (automated checks, LLM judges): detection by
//! defect kind, false positives, a delay, and what a flag does (reject, or escalate to a
//! later human review). The engine runs them all through [`super::Role::Flag`].

use super::skill::{detection, RawDetect};
use super::{At, Detection, KindTag};
use crate::dist::{Dist, RawDist};
use crate::input::{Ctx, Num, S};

/// A flagging stage's settings.
#[derive(Debug, Clone)]
pub struct Flagging {
    /// Delay of the infinite-server stage; `None` is instantaneous.
    pub delay: Option<Dist>,
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

/// A flagging stage's keys as written; `delay` is the key of its delay (`service` for a
/// check, `latency` for a judge) with its value.
pub struct FlagKeys<'a> {
    pub detect: &'a Option<S<RawDetect>>,
    pub false_positive: &'a Option<S<Num>>,
    pub on_flag: &'a Option<S<String>>,
    pub escalate_to: &'a Option<S<String>>,
    pub delay: (&'static str, &'a Option<S<RawDist>>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FlagAction {
    Reject,
    Escalate,
}

impl Flagging {
    /// Checks a flagging stage's keys; problems go to `ctx`.
    pub fn build(ctx: &mut Ctx, at: &At, keys: FlagKeys) -> Flagging {
        let detect = detection(ctx, at, keys.detect);
        let (delay_key, delay) = keys.delay;
        let delay = delay
            .as_ref()
            .map(|d| Dist::parse(ctx, d, &at.key(delay_key), true));
        let choices = [("reject", FlagAction::Reject), ("escalate", FlagAction::Escalate)];
        let action = keys
            .on_flag
            .as_ref()
            .map(|v| (v, ctx.choice(v, &at.key("on_flag"), &choices)));
        let on_flag = match (action, keys.escalate_to) {
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
        Flagging {
            delay,
            detect,
            false_positive: ctx.opt_prob(keys.false_positive, &at.key("false_positive"), 0.0),
            on_flag,
        }
    }

    /// The probability that an attempt of class `class` with defect probability `p`, whose
    /// defects are of kind `k` with probability `kind_shares[k]`, is flagged.
    pub fn flag_prob(&self, class: usize, p: f64, kind_shares: &[f64]) -> f64 {
        let d: f64 = (kind_shares.iter().enumerate())
            .map(|(k, s)| s * self.detect.of(k, class))
            .sum();
        p * d + (1.0 - p) * self.false_positive
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
