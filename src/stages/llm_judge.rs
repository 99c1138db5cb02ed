//! `kind = "llm_judge"`: a second model that checks the agent's attempts (an "LLM as a
//! judge"). It flags as an automated check does (detection by defect kind, false positives,
//! reject or escalate to a later review) and runs without a queue, but every call costs
//! money (`cost` is required: a judge is never free by omission) and may take a `latency`.

use super::flag::{FlagKeys, Flagging};
use super::skill::RawDetect;
use super::{raw_stage, At, Kind, Lever, LoadAt, Role, Stage};
use crate::dist::RawDist;
use crate::input::{Ctx, Num, S};

#[derive(Debug, Clone)]
pub struct LlmJudge {
    pub flag: Flagging,
}

raw_stage! {
    /// An LLM judge as written.
    RawJudge [classes, sample, learn, cost, tier, difficulty_loading] {
        detect: Option<S<RawDetect>>,
        false_positive: Option<S<Num>>,
        on_flag: Option<S<String>>,
        escalate_to: Option<S<String>>,
        latency: Option<S<RawDist>>,
    }
}

impl Kind for LlmJudge {
    // A judge has no people and no threshold a rule sets.
    const STAFFING_RULE: Option<&'static str> = None;
    const LEVERS: &'static [Lever] = &[Lever {
        key: "detect",
        label: "judge detection",
        min: 0.05,
        max: 0.99,
        step: 0.01,
    }];
    const NAME: &'static str = "llm_judge";
    type Raw = RawJudge;

    fn build(ctx: &mut Ctx, r: &RawJudge, at: &At) -> LlmJudge {
        if r.cost.is_none() {
            ctx.missing(
                at.span.clone(),
                at.path,
                "cost",
                "money per call, at least 0 (a judge's calls are priced, so write 0 only if they are free)",
            );
        }
        let keys = FlagKeys {
            detect: &r.detect,
            false_positive: &r.false_positive,
            on_flag: &r.on_flag,
            escalate_to: &r.escalate_to,
            delay: ("latency", &r.latency),
        };
        LlmJudge {
            flag: Flagging::build(ctx, at, keys),
        }
    }

    fn role(&self) -> Role<'_> {
        Role::Flag(&self.flag)
    }

    fn offered_load(&self, _: &Stage, _: &LoadAt) -> Option<f64> {
        None // calls run in parallel: no one to load
    }
}
