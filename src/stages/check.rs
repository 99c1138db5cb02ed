//! `kind = "automated_check"`: an automated check (tests, a classifier, a policy engine)
//! that flags attempts, at once or after a `service` delay, with no queue (infinite
//! servers).

use super::flag::{FlagKeys, Flagging};
use super::skill::RawDetect;
use super::{raw_stage, At, Kind, Lever, LoadAt, Role, Stage};
use crate::dist::RawDist;
use crate::input::{Ctx, Num, S};

#[derive(Debug, Clone)]
pub struct AutomatedCheck {
    pub flag: Flagging,
}

raw_stage! {
    /// An automated check as written.
    RawCheck [classes, sample, learn, cost, tier, difficulty_loading] {
        service: Option<S<RawDist>>,
        detect: Option<S<RawDetect>>,
        false_positive: Option<S<Num>>,
        on_flag: Option<S<String>>,
        escalate_to: Option<S<String>>,
    }
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

    fn build(ctx: &mut Ctx, r: &RawCheck, at: &At) -> AutomatedCheck {
        let keys = FlagKeys {
            detect: &r.detect,
            false_positive: &r.false_positive,
            on_flag: &r.on_flag,
            escalate_to: &r.escalate_to,
            delay: ("service", &r.service),
        };
        AutomatedCheck {
            flag: Flagging::build(ctx, at, keys),
        }
    }

    fn role(&self) -> Role<'_> {
        Role::Flag(&self.flag)
    }

    fn offered_load(&self, _: &Stage, _: &LoadAt) -> Option<f64> {
        None // infinite servers: no one to load
    }
}
