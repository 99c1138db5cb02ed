//! `kind = "human_review"`: people who review attempts before release, one queue (or one
//! lane per harm rank) and `reviewers` servers, with the human factors that set a
//! reviewer's detection (fatigue, automation bias, pressure), timeouts and shifts.

use serde::Deserialize;

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
    Fatigue {
        tau: ctx.duration(&f.tau, &format!("{fp}.tau"), false),
        floor: ctx.prob(&f.floor, &format!("{fp}.floor")),
        break_after,
        break_length,
    }
}

impl Fatigue {
    /// Detection after `t` hours on task, for a fresh detection `d`.
    #[inline]
    pub fn detect(&self, d: f64, t: f64) -> f64 {
        let low = self.floor * d;
        low + (d - low) * libm::exp(-t / self.tau)
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

/// When a group of reviewers is on duty: a shift of `on` hours begins at each of
/// `starts`, hours into a cycle of `cycle` hours that repeats from time 0 (Monday 00:00).
/// Nobody of the group is on duty before its first shift begins.
#[derive(Debug, Clone, PartialEq)]
pub struct Shifts {
    pub on: f64,
    /// `period`, or a week when the shift runs on some days only.
    pub cycle: f64,
    /// Ascending, each in `[0, cycle)`, at least `on` apart (and `on` before the next
    /// cycle's first).
    pub starts: Vec<f64>,
    /// The group's head count.
    pub reviewers: u32,
}

impl Shifts {
    /// Whether the group is on duty all the time (a shift as long as its cycle).
    pub fn always(&self) -> bool {
        self.on * self.starts.len() as f64 >= self.cycle
    }

    /// The share of the time the group is on duty.
    pub fn duty(&self) -> f64 {
        (self.on * self.starts.len() as f64 / self.cycle).min(1.0)
    }
}

/// The days a shift may run on, Monday first (time 0 is Monday 00:00).
pub const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

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
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFatigue {
    pub tau: S<String>,
    pub floor: S<Num>,
    pub break_after: Option<S<String>>,
    pub break_length: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPressure {
    pub queue: S<i64>,
    pub speedup: Option<S<Num>>,
    pub detect_factor: Option<S<Num>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawShifts {
    pub on: S<String>,
    pub period: Option<S<String>>,
    pub start: Option<S<String>>,
    pub days: Option<S<Vec<S<String>>>>,
    pub reviewers: Option<S<i64>>,
    pub share: Option<S<Num>>,
}

/// `shifts` as written: one pattern for every reviewer, or several, each with its own.
#[derive(Debug)]
pub enum RawShiftTable {
    One(RawShifts),
    Several(Vec<S<RawShifts>>),
}

impl<'de> Deserialize<'de> for RawShiftTable {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{value::MapAccessDeserializer, MapAccess, SeqAccess, Visitor};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawShiftTable;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "a table { on, period, start, days }, or an array of such tables each with its reviewers",
                )
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawShiftTable, A::Error> {
                RawShifts::deserialize(MapAccessDeserializer::new(map)).map(RawShiftTable::One)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawShiftTable, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<S<RawShifts>>()? {
                    out.push(s);
                }
                Ok(RawShiftTable::Several(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// The most shift patterns a stage may have.
pub const MAX_SHIFT_PATTERNS: usize = 64;

/// Whether `shifts` is several patterns that split the stage's head count by `share`
/// (then the stage gives `reviewers`, a number or a staffing rule).
fn by_share(raw: &Option<S<RawShiftTable>>) -> bool {
    raw.as_ref().is_some_and(|r| shares_of(r.get_ref()))
}

/// [`by_share`] of a written `shifts`.
fn shares_of(raw: &RawShiftTable) -> bool {
    match raw {
        RawShiftTable::Several(list) => list.iter().any(|s| s.get_ref().share.is_some()),
        RawShiftTable::One(_) => false,
    }
}

/// `shifts`: one pattern for all `reviewers` (the stage's), or several, each with its own
/// head count (the stage then gives none) or its `share` of the stage's `reviewers` (which
/// a staffing rule may set). Returns the patterns and the reviewers in all.
fn shift_patterns(
    ctx: &mut Ctx,
    at: &At,
    raw: &Option<S<RawShiftTable>>,
    given: Option<&S<i64>>,
    reviewers: u32,
) -> (Vec<Shifts>, u32) {
    let path = format!("{}.shifts", at.path);
    let Some(raw) = raw else {
        return (Vec::new(), reviewers);
    };
    let list = match raw.get_ref() {
        RawShiftTable::One(s) => {
            for (key, span) in [
                ("reviewers", s.reviewers.as_ref().map(S::span)),
                ("share", s.share.as_ref().map(S::span)),
            ] {
                if let Some(span) = span {
                    ctx.err(span, &format!("{path}.{key}"), format!("one shift pattern has the stage's `reviewers`; `{key}` belongs to a pattern of an array of several, shifts = [{{ ..., reviewers = 15 }}, {{ ..., reviewers = 2 }}] or [{{ ..., share = 0.8 }}, {{ ..., share = 0.2 }}]"));
                }
            }
            return (vec![pattern(ctx, s, &path, reviewers)], reviewers);
        }
        RawShiftTable::Several(list) => list,
    };
    if list.is_empty() || list.len() > MAX_SHIFT_PATTERNS {
        ctx.err(
            raw.span(),
            &path,
            format!("has {} patterns; allowed: 1 to {MAX_SHIFT_PATTERNS}", list.len()),
        );
    }
    let counts: Vec<u32> = if shares_of(raw.get_ref()) {
        // Each pattern's share of the stage's head count (a number or a rule's choice),
        // rounded by largest remainder so that they add up to it.
        let shares: Vec<f64> = (list.iter().enumerate())
            .map(|(k, s)| {
                let sp = format!("{path}[{k}]");
                if let Some(v) = &s.get_ref().reviewers {
                    ctx.err(v.span(), &format!("{sp}.reviewers"), "the patterns split the stage's `reviewers` by `share`; give every pattern a `share` or every pattern its `reviewers`, not both");
                }
                match &s.get_ref().share {
                    Some(v) => ctx.prob(v, &format!("{sp}.share")),
                    None => {
                        ctx.missing(s.span(), &sp, "share", "this pattern's share of the stage's reviewers, as the other patterns give");
                        0.0
                    }
                }
            })
            .collect();
        let sum: f64 = shares.iter().sum();
        if (sum - 1.0).abs() > 1e-6 {
            ctx.err(
                raw.span(),
                &path,
                format!("the patterns' shares sum to {sum}; they must sum to 1"),
            );
        }
        split(reviewers, &shares)
    } else {
        if let Some(v) = given {
            ctx.err(v.span(), &at.key("reviewers"), "with several shift patterns each gives its own `reviewers`, and the stage's are their sum; remove the stage's `reviewers`, or give each pattern a `share` of it instead (a staffing rule can then set it)");
        }
        (list.iter().enumerate())
            .map(|(k, s)| match &s.get_ref().reviewers {
                Some(v) => ctx.int(v, &format!("{path}[{k}].reviewers"), 1, crate::input::limits::MAX_REVIEWERS) as u32,
                None => {
                    let what = "the number of reviewers on this pattern, at least 1 (or every pattern's `share` of the stage's `reviewers`)";
                    ctx.missing(s.span(), &format!("{path}[{k}]"), "reviewers", what);
                    1
                }
            })
            .collect()
    };
    let total = counts.iter().fold(0u32, |a, &n| a.saturating_add(n));
    if total as i64 > crate::input::limits::MAX_REVIEWERS {
        ctx.err(
            raw.span(),
            &path,
            format!(
                "has {total} reviewers in all; at most {} are allowed",
                crate::input::limits::MAX_REVIEWERS
            ),
        );
    }
    let patterns = (list.iter().zip(&counts).enumerate())
        .map(|(k, (s, &n))| pattern(ctx, s.get_ref(), &format!("{path}[{k}]"), n))
        .collect();
    (patterns, total.max(1))
}

/// `n` split by `shares` (summing to 1) into whole numbers that add up to `n`: each share's
/// whole part, then one more to the largest remainders (the earlier pattern on a tie).
pub fn split(n: u32, shares: &[f64]) -> Vec<u32> {
    let exact: Vec<f64> = shares.iter().map(|s| s * n as f64).collect();
    let mut out: Vec<u32> = exact.iter().map(|x| x.floor() as u32).collect();
    let given: u32 = out.iter().sum();
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor())
            .total_cmp(&(exact[a] - exact[a].floor()))
            .then(a.cmp(&b))
    });
    for &k in order.iter().cycle().take(n.saturating_sub(given) as usize) {
        out[k] += 1;
    }
    out
}

/// One shift pattern at `sp`, of `reviewers` people.
fn pattern(ctx: &mut Ctx, s: &RawShifts, sp: &str, reviewers: u32) -> Shifts {
    let on = ctx.duration(&s.on, &format!("{sp}.on"), false);
    let start = s
        .start
        .as_ref()
        .map_or(0.0, |v| ctx.duration(v, &format!("{sp}.start"), true));
    let Some(days) = &s.days else {
        let Some(p) = &s.period else {
            ctx.missing(
                s.on.span(),
                sp,
                "period",
                "how often the shift repeats, e.g. \"24h\" (or `days`, the weekdays it runs on)",
            );
            return Shifts {
                on,
                cycle: on.max(1.0),
                starts: vec![0.0],
                reviewers,
            };
        };
        let period = ctx.duration(p, &format!("{sp}.period"), false);
        if on > period {
            ctx.err(
                s.on.span(),
                &format!("{sp}.on"),
                "a shift cannot be longer than its period",
            );
        }
        if start >= period {
            let v = s.start.as_ref().expect("start > 0 was given");
            ctx.err(
                v.span(),
                &format!("{sp}.start"),
                "the first shift must start within the first period (start < period)",
            );
        }
        return Shifts {
            on: on.min(period),
            cycle: period,
            starts: vec![start.min(period)],
            reviewers,
        };
    };
    // On some weekdays: a shift a day, starting at `start` of each listed day.
    if let Some(p) = &s.period {
        ctx.err(
            p.span(),
            &format!("{sp}.period"),
            "a shift on `days` repeats every week; remove `period`",
        );
    }
    if on > 24.0 {
        ctx.err(
            s.on.span(),
            &format!("{sp}.on"),
            "a shift on `days` lasts at most 24h, so that it ends before the next day's begins",
        );
    }
    if start >= 24.0 {
        let v = s.start.as_ref().expect("start > 0 was given");
        ctx.err(
            v.span(),
            &format!("{sp}.start"),
            "a shift on `days` starts within its day (start < 24h)",
        );
    }
    let mut on_day = [false; 7];
    for (k, d) in days.get_ref().iter().enumerate() {
        let name = d.get_ref().as_str();
        match DAYS.iter().position(|x| *x == name) {
            Some(i) if on_day[i] => ctx.err(
                d.span(),
                &format!("{sp}.days[{k}]"),
                format!("`{name}` is listed twice"),
            ),
            Some(i) => on_day[i] = true,
            None => {
                let msg =
                    crate::input::unknown(format!("`{name}` is not a day"), name, &DAYS, Some("allowed"));
                ctx.err(d.span(), &format!("{sp}.days[{k}]"), msg);
            }
        }
    }
    if days.get_ref().is_empty() {
        ctx.err(days.span(), &format!("{sp}.days"), "lists no day; allowed: some of \"mon\" to \"sun\", e.g. [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]");
    }
    Shifts {
        on: on.min(24.0),
        cycle: 168.0,
        starts: (0..7)
            .filter(|&i| on_day[i])
            .map(|i| 24.0 * i as f64 + start.min(24.0))
            .collect(),
        reviewers,
    }
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

    #[test]
    fn a_head_count_splits_by_share_into_whole_people() {
        assert_eq!(split(10, &[0.8, 0.2]), [8, 2]);
        assert_eq!(split(7, &[0.5, 0.5]), [4, 3]);
        assert_eq!(split(1, &[0.8, 0.2]), [1, 0]);
        assert_eq!(split(3, &[1.0 / 3.0; 3]), [1, 1, 1]);
        assert_eq!(split(5, &[0.15, 0.15, 0.7]), [1, 1, 3]);
        for n in 0..200 {
            for shares in [[0.8, 0.15, 0.05], [0.1, 0.1, 0.8], [0.34, 0.33, 0.33]] {
                let got = split(n, &shares);
                assert_eq!(got.iter().sum::<u32>(), n, "{n} {shares:?}");
                for (g, s) in got.iter().zip(shares) {
                    assert!((*g as f64 - s * n as f64).abs() < 1.0, "{n} {shares:?} {got:?}");
                }
            }
        }
    }
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
