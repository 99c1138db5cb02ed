//! `kind = "audit"`: a post-release sampling audit. Released attempts of the stage's
//! classes are sampled into a FIFO queue served by `reviewers` auditors, always on duty;
//! a defect found is caught late (still an escape, with its harm scaled).

use super::change::{change, Change, Mind, RawExperience, RawPrevalence};
use super::desk::Person;
use super::review::{fatigue, Fatigue, RawFatigue};
use super::skill::{skill, RawDetect};
use super::{raw_stage, staffing, At, Desk, Kind, Lever, LoadAt, Role, Skill, Stage};
use crate::dist::{Dist, RawDist};
use crate::input::{Ctx, Num, S};

/// Post-release sampling audit: a queue of released attempts served by `reviewers`.
#[derive(Debug, Clone)]
pub struct Audit {
    pub reviewers: u32,
    pub service: Dist,
    /// Each person's detection when fresh (a beta draws one per person).
    pub detect: Skill,
    /// Harm of a defect the audit finds is multiplied by this.
    pub late_harm_factor: f64,
    /// Auditors tire and take breaks as reviewers do.
    pub fatigue: Option<Fatigue>,
    /// How the auditors' detection moves with what they see (prevalence, experience).
    pub change: Change,
}

raw_stage! {
    /// An audit as written.
    RawAudit [classes, sample, learn, cost, tier, difficulty_loading] {
        reviewers: Option<S<i64>>,
        service: Option<S<RawDist>>,
        detect: Option<S<RawDetect>>,
        late_harm_factor: Option<S<Num>>,
        fatigue: Option<S<RawFatigue>>,
        prevalence: Option<S<RawPrevalence>>,
        experience: Option<S<RawExperience>>,
    }
}

impl Kind for Audit {
    // Audit waits hold up findings, not released work: the desk is kept below the planning ceiling.
    const STAFFING_RULE: Option<&'static str> = Some(super::staffing_rule::UTILIZATION);
    const LEVERS: &'static [Lever] = &[Lever {
        key: "sample",
        label: "audit sample",
        min: 0.005,
        max: 0.3,
        step: 0.005,
    }];
    const NAME: &'static str = "audit";
    type Raw = RawAudit;

    fn role(&self) -> Role<'_> {
        Role::Audit(self)
    }

    fn build(ctx: &mut Ctx, r: &RawAudit, at: &At) -> Audit {
        let detect = skill(ctx, at, &r.detect);
        let (reviewers, service) = staffing(ctx, at, &r.reviewers, &r.service, "auditors", "15m");
        Audit {
            reviewers,
            service,
            detect,
            late_harm_factor: r.late_harm_factor.as_ref().map_or(0.5, |v| {
                ctx.range(
                    v,
                    &at.key("late_harm_factor"),
                    0.0,
                    1e6,
                    "a non-negative factor on the harm of a defect found late",
                )
            }),
            fatigue: r.fatigue.as_ref().map(|f| fatigue(ctx, f, &at.key("fatigue"))),
            change: change(ctx, at, &r.prevalence, &r.experience, true),
        }
    }

    /// λ is the arrival rate of the sampled classes: an upper bound on their releases.
    fn offered_load(&self, stage: &Stage, load: &LoadAt) -> Option<f64> {
        let frac: f64 = (load.classes.iter().enumerate())
            .filter(|(ci, _)| stage.classes.contains(*ci))
            .map(|(ci, c)| c.share * stage.sample * load.tier_share(stage, ci))
            .sum();
        Some(load.lambda * frac * self.service.mean() / self.reviewers as f64)
    }
}

/// A released attempt waiting for, or under, audit.
#[derive(Debug, Clone, Copy)]
pub struct AuditItem {
    pub class: u16,
    pub defective: bool,
    /// Release time: a late catch counts only if the release was in the measured window.
    pub released: f64,
    /// When it joined the audit queue.
    pub enqueued: f64,
    /// Latent difficulty (correlated detection).
    pub z: f64,
    /// Kind of its defect.
    pub defect_kind: u8,
    /// What the draws about the attempt are keyed by (`rng::attempt_entity`).
    pub entity: u64,
    /// Who signed the attempt off before its release (`engine::culture::Signer`, packed;
    /// 0 for nobody).
    pub signer: u32,
    /// The escape already came to light by itself (`workload.found_later`): a finding
    /// adds nothing to what followed then.
    pub surfaced: bool,
}

/// An audit stage: a FIFO queue of released attempts and its auditors, always on duty.
pub struct AuditPool {
    pub desk: Desk<AuditItem>,
    pub state: Vec<Person>,
    /// Each auditor's own detection, drawn once per replication for a beta `detect` (NaN,
    /// and unused, otherwise).
    pub skill: Vec<f64>,
}

impl AuditPool {
    /// `skill`: each auditor's detection (see [`Skill::draw`]); `minds`: what each has seen.
    pub fn new(skill: Vec<f64>, minds: Vec<Mind>, w0: f64, w1: f64) -> AuditPool {
        AuditPool {
            desk: Desk::new(skill.len(), w0, w1),
            state: Person::crew(minds),
            skill,
        }
    }

    /// An auditor neither busy nor on a break, lowest index first.
    pub fn idle_auditor(&self) -> Option<usize> {
        super::desk::idle_person(&self.desk, &self.state)
    }
}
