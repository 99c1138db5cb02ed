//! `kind = "human_review"`: people who review attempts before release, one queue (or one
//! lane per harm rank) and `reviewers` servers, with the human factors that set a
//! reviewer's detection (fatigue, automation bias, pressure), timeouts and shifts.

use serde::Deserialize;

use super::change::{change, Change, RawExperience, RawPrevalence};
use super::shifts::{by_share, shift_patterns, RawShiftTable, Shifts};
use super::skill::{skill, RawDetect};
use super::{raw_stage, staffing, At, Kind, Lever, LoadAt, OnFlag, Role, Skill, Stage};
use crate::dist::{Dist, RawDist};
use crate::input::{Ctx, Num, S};

#[derive(Debug, Clone)]
pub struct HumanReview {
    pub reviewers: u32,
    pub service: Dist,
    /// Each person's detection when fresh (a beta draws one per person).
    pub detect: Skill,
    pub false_reject: f64,
    pub discipline: Discipline,
    pub fatigue: Option<Fatigue>,
    /// How the reviewers' detection moves with what they see (prevalence, experience).
    pub change: Change,
    /// Multiplier (≥ 1) of the miss probability for auto-passed attempts.
    pub complacency: f64,
    pub pressure: Option<Pressure>,
    /// Hours an attempt may wait before it leaves unreviewed.
    pub max_wait: Option<f64>,
    pub on_timeout: OnTimeout,
    /// The groups of reviewers and when each is on duty, in reviewer order (reviewers
    /// `0..a` are the first group's, and so on); empty: always on duty.
    pub shifts: Vec<Shifts>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discipline {
    Fifo,
    /// Higher-harm classes first, FIFO within a class.
    Priority,
}

#[derive(Debug, Clone, Copy)]
pub struct Fatigue {
    pub tau: f64,
    pub floor: f64,
    pub break_after: Option<f64>,
    pub break_length: Option<f64>,
    /// Waiting for work is a watch (`idle = "watch"`): it wears as work does and rests
    /// nobody; otherwise (`"rest"`) an idle spell as long as a break rests the person.
    pub watch: bool,
}

/// Reads a `fatigue` table (of a review's reviewers or an audit's auditors) at `fp`.
pub fn fatigue(ctx: &mut Ctx, f: &S<RawFatigue>, fp: &str) -> Fatigue {
    let f = f.get_ref();
    let break_after = f
        .break_after
        .as_ref()
        .map(|v| ctx.duration(v, &format!("{fp}.break_after"), false));
    let break_length = f
        .break_length
        .as_ref()
        .map(|v| ctx.duration(v, &format!("{fp}.break_length"), false));
    if let (Some(a), None) = (&f.break_after, &break_length) {
        ctx.missing(
            a.span(),
            fp,
            "break_length",
            "how long a break lasts, e.g. \"15m\"",
        );
    }
    let idle = [("rest", false), ("watch", true)];
    Fatigue {
        tau: ctx.duration(&f.tau, &format!("{fp}.tau"), false),
        floor: ctx.prob(&f.floor, &format!("{fp}.floor")),
        break_after,
        break_length,
        watch: (f.idle.as_ref()).is_some_and(|v| ctx.choice(v, &format!("{fp}.idle"), &idle) == Some(true)),
    }
}

impl Fatigue {
    /// Detection after `t` hours on task, for a fresh detection `d`.
    #[inline]
    pub fn detect(&self, d: f64, t: f64) -> f64 {
        let low = self.floor * d;
        low + (d - low) * libm::exp(-t / self.tau)
    }

    /// Time on task after an idle spell of `idle` hours, for `on_task` before it: on a watch
    /// the spell counts as time on task; otherwise a spell as long as a break rests.
    #[inline]
    pub fn after_idle(&self, on_task: f64, idle: f64) -> f64 {
        match (self.watch, self.break_length) {
            (true, _) => on_task + idle,
            (false, Some(length)) if idle >= length => 0.0,
            (false, _) => on_task,
        }
    }
}

/// Time on task is a sum of service times, so ten 6-minute items may add up to a hair under
/// an hour; a break is due when time on task is within this much (hours, 3.6 µs) of
/// `break_after`.
pub const ON_TASK_EPS: f64 = 1e-9;

#[derive(Debug, Clone, Copy)]
pub struct Pressure {
    pub queue: u32,
    pub speedup: f64,
    pub detect_factor: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnTimeout {
    /// Passes the stage unreviewed (a rubber stamp).
    Approve,
    Drop,
}

raw_stage! {
    /// A human review as written.
    RawReview [classes, sample, learn, cost, tier, difficulty_loading] {
        service: Option<S<RawDist>>,
        detect: Option<S<RawDetect>>,
        false_reject: Option<S<Num>>,
        reviewers: Option<S<i64>>,
        discipline: Option<S<String>>,
        fatigue: Option<S<RawFatigue>>,
        complacency: Option<S<Num>>,
        pressure: Option<S<RawPressure>>,
        max_wait: Option<S<String>>,
        on_timeout: Option<S<String>>,
        shifts: Option<S<RawShiftTable>>,
        prevalence: Option<S<RawPrevalence>>,
        experience: Option<S<RawExperience>>,
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFatigue {
    pub tau: S<String>,
    pub floor: S<Num>,
    pub break_after: Option<S<String>>,
    pub break_length: Option<S<String>>,
    pub idle: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPressure {
    pub queue: S<i64>,
    pub speedup: Option<S<Num>>,
    pub detect_factor: Option<S<Num>>,
}

impl Kind for HumanReview {
    // Reviews hold up the work: the service level an operations team would state.
    const STAFFING_RULE: Option<&'static str> = Some(super::staffing_rule::P95_WAIT);
    const LEVERS: &'static [Lever] = &[
        Lever {
            key: "reviewers",
            label: "reviewers",
            min: 1.0,
            max: 30.0,
            step: 1.0,
        },
        Lever {
            key: "detect",
            label: "reviewer detection",
            min: 0.05,
            max: 0.99,
            step: 0.01,
        },
    ];
    const NAME: &'static str = "human_review";
    type Raw = RawReview;

    fn role(&self) -> Role<'_> {
        Role::Review(self)
    }

    fn build(ctx: &mut Ctx, r: &RawReview, at: &At) -> HumanReview {
        let path = at.path;
        let detect = skill(ctx, at, &r.detect);
        // With several shift patterns the head count is theirs, and the stage gives none.
        let several = matches!(r.shifts.as_ref().map(S::get_ref), Some(RawShiftTable::Several(_)));
        let theirs =
            (several && !by_share(&r.shifts) && r.reviewers.is_none()).then(|| S::new(at.span.clone(), 1));
        let given = if theirs.is_some() { &theirs } else { &r.reviewers };
        let (reviewers, service) = staffing(ctx, at, given, &r.service, "reviewers", "6m");
        let disciplines = [("fifo", Discipline::Fifo), ("priority", Discipline::Priority)];
        let discipline = r
            .discipline
            .as_ref()
            .and_then(|v| ctx.choice(v, &at.key("discipline"), &disciplines))
            .unwrap_or(Discipline::Fifo);
        let fatigue = r
            .fatigue
            .as_ref()
            .map(|f| fatigue(ctx, f, &format!("{path}.fatigue")));
        let pressure = r.pressure.as_ref().map(|p| {
            let p = p.get_ref();
            let pp = format!("{path}.pressure");
            Pressure {
                queue: ctx.int(&p.queue, &format!("{pp}.queue"), 1, 1_000_000_000) as u32,
                speedup: p.speedup.as_ref().map_or(1.0, |v| {
                    ctx.range(
                        v,
                        &format!("{pp}.speedup"),
                        1.0,
                        1000.0,
                        "a factor ≥ 1 by which service time shrinks",
                    )
                }),
                detect_factor: ctx.opt_prob(&p.detect_factor, &format!("{pp}.detect_factor"), 1.0),
            }
        });
        let max_wait = r
            .max_wait
            .as_ref()
            .map(|v| ctx.duration(v, &format!("{path}.max_wait"), false));
        let outcomes = [("approve", OnTimeout::Approve), ("drop", OnTimeout::Drop)];
        let on_timeout = match &r.on_timeout {
            Some(v) => {
                let c = ctx.choice(v, &at.key("on_timeout"), &outcomes);
                if max_wait.is_none() {
                    ctx.err(v.span(), &at.key("on_timeout"), "`on_timeout` needs `max_wait`");
                }
                c.unwrap_or(OnTimeout::Approve)
            }
            None => OnTimeout::Approve,
        };
        let (shifts, reviewers) = shift_patterns(ctx, at, &r.shifts, r.reviewers.as_ref(), reviewers);
        HumanReview {
            reviewers,
            service,
            detect,
            false_reject: ctx.opt_prob(&r.false_reject, &format!("{path}.false_reject"), 0.0),
            discipline,
            fatigue,
            change: change(ctx, at, &r.prevalence, &r.experience, true),
            complacency: r.complacency.as_ref().map_or(1.0, |v| {
                ctx.range(
                    v,
                    &format!("{path}.complacency"),
                    1.0,
                    1000.0,
                    "a miss-probability multiplier ≥ 1 (1 = no automation bias)",
                )
            }),
            pressure,
            max_wait,
            on_timeout,
            shifts,
        }
    }

    /// λ counts the attempts routed to the stage by class and sample plus, as an upper
    /// bound, every attempt an earlier check may escalate to it; rework and upstream
    /// rejections are ignored. Capacity counts on-duty time (shifts) less planned breaks
    /// (fatigue), but not the speed-up of reviewers under pressure.
    fn offered_load(&self, stage: &Stage, load: &LoadAt) -> Option<f64> {
        let i = load.index;
        let mut frac = 0.0;
        for (ci, c) in load.classes.iter().enumerate() {
            let direct = if stage.classes.contains(ci) {
                stage.sample * load.tier_share(stage, ci)
            } else {
                0.0
            };
            let mut escalated = 0.0;
            for e in &load.stages[..i] {
                if let Role::Flag(a) = e.kind.role() {
                    if a.on_flag == OnFlag::Escalate(i) && e.classes.contains(ci) {
                        escalated += e.sample * a.flag_prob(ci, c.defect_prob, &c.kind_shares);
                    }
                }
            }
            frac += c.share * (direct + (1.0 - direct) * escalated.min(1.0));
        }
        // Reviewer-hours on duty per hour, over the groups' cycles.
        let duty = match self.shifts.is_empty() {
            true => 1.0,
            false => {
                let on: f64 = self.shifts.iter().map(|s| s.reviewers as f64 * s.duty()).sum();
                on / self.reviewers as f64
            }
        };
        // A saturated reviewer spends break_length of every break_after + break_length
        // on a break.
        let working = self
            .fatigue
            .and_then(|f| f.break_after.zip(f.break_length))
            .map_or(1.0, |(after, length)| after / (after + length));
        Some(load.lambda * frac * self.service.mean() / (self.reviewers as f64 * duty * working))
    }
}

/// Probability that a reviewer catches a defect, given the human factors in force.
#[inline]
pub fn review_detect(h: &HumanReview, fresh: f64, on_task: f64, auto_passed: bool, pressured: bool) -> f64 {
    let mut d = fresh;
    if let Some(f) = &h.fatigue {
        d = f.detect(d, on_task);
    }
    if auto_passed && h.complacency != 1.0 {
        d = 1.0 - ((1.0 - d) * h.complacency).min(1.0);
    }
    if pressured {
        if let Some(p) = &h.pressure {
            d *= p.detect_factor;
        }
    }
    d
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::dist::Dist;
    use crate::stages::Detection;

    /// One reviewer, no human factors: the settings other tests start from.
    pub(crate) fn review() -> HumanReview {
        HumanReview {
            reviewers: 1,
            service: Dist::constant(0.1),
            detect: Skill::Fixed(Detection::Same(0.6)),
            false_reject: 0.0,
            discipline: Discipline::Fifo,
            fatigue: None,
            change: Change::default(),
            complacency: 1.0,
            pressure: None,
            max_wait: None,
            on_timeout: OnTimeout::Approve,
            shifts: Vec::new(),
        }
    }

    #[test]
    fn human_factors() {
        let mut h = review();
        assert_eq!(review_detect(&h, 0.6, 5.0, true, true), 0.6);
        h.complacency = 1.3;
        assert!((review_detect(&h, 0.6, 0.0, true, false) - (1.0 - 0.4 * 1.3)).abs() < 1e-12);
        assert_eq!(review_detect(&h, 0.6, 0.0, false, false), 0.6);
        h.complacency = 5.0;
        assert_eq!(review_detect(&h, 0.6, 0.0, true, false), 0.0);
        h.complacency = 1.0;
        h.fatigue = Some(Fatigue {
            tau: 0.5,
            floor: 0.85,
            break_after: None,
            break_length: None,
            watch: false,
        });
        // d(30 min) = 0.85·0.6 + 0.15·0.6·e^{-1}
        let d30 = 0.51 + 0.09 * libm::exp(-1.0);
        assert!((review_detect(&h, 0.6, 0.5, false, false) - d30).abs() < 1e-12);
        h.pressure = Some(Pressure {
            queue: 5,
            speedup: 2.0,
            detect_factor: 0.5,
        });
        assert!((review_detect(&h, 0.6, 0.5, false, true) - d30 * 0.5).abs() < 1e-12);
    }
}
