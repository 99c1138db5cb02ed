//! Regime shifts of the agent's defect rate (`[workload.drift]`): a step or a ramp, one at
//! a time or overlapping.

use serde::Deserialize;

use crate::input::{Ctx, Num, S};

/// Regime shifts of the agent's defect rate.
#[derive(Debug, Clone, Copy)]
pub struct Drift {
    /// Mean gap between onsets, hours (Poisson onsets).
    pub every: f64,
    /// Defect probabilities are multiplied by this while a drift is active.
    pub multiplier: f64,
    /// A drift ends by itself after this long, if set.
    pub self_heal: Option<f64>,
    /// A drift's factor rises linearly from 1 to `multiplier` over this long after its
    /// onset, if set (a step otherwise).
    pub ramp: Option<f64>,
    /// Onsets during a drift start drifts of their own, each with its own ramp and
    /// self-heal, whose factors multiply; otherwise such an onset is ignored.
    pub overlap: bool,
    /// A strategic agent: while drifting it errs at the drifted rate only while every
    /// control chart of the policy is below this share of the way to its alarm
    /// (`ChartState::closeness`), and at its normal rate otherwise.
    pub gaming: Option<f64>,
}

impl Drift {
    /// Checks `[workload.drift]`; problems go to `ctx`.
    pub fn parse(ctx: &mut Ctx, d: RawDrift) -> Drift {
        if let (Some(o), None) = (&d.overlap, &d.self_heal) {
            if *o.get_ref() {
                ctx.err(o.span(), "workload.drift.overlap", "needs `self_heal`: overlapping drifts that never end by themselves would pile up; give each a duration, e.g. self_heal = \"2d\"");
            }
        }
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
            ramp: (d.ramp.as_ref()).map(|v| ctx.duration(v, "workload.drift.ramp", false)),
            overlap: d.overlap.as_ref().is_some_and(|v| *v.get_ref()),
            gaming: (d.gaming.as_ref()).map(|v| {
                ctx.range(
                    v,
                    "workload.drift.gaming",
                    0.0,
                    1.0,
                    "a share in [0, 1] of the way to a chart's alarm",
                )
            }),
        }
    }

    /// The factor on defect probabilities of one drift `since` hours after its onset.
    #[inline]
    pub fn factor(&self, since: f64) -> f64 {
        match self.ramp {
            Some(r) if since < r => 1.0 + (self.multiplier - 1.0) * (since / r),
            _ => self.multiplier,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDrift {
    pub every: S<String>,
    pub multiplier: S<Num>,
    pub self_heal: Option<S<String>>,
    pub ramp: Option<S<String>>,
    pub overlap: Option<S<bool>>,
    pub gaming: Option<S<Num>>,
}
