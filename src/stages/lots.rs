//! `kind = "acceptance_sampling"`: lot acceptance sampling, the production line's quality
//! practice. Attempts are held in lots of `lot`; when a lot is full, `n` of its attempts,
//! drawn at random, are inspected by `reviewers`; the lot is accepted if at most `c`
//! defects are found, otherwise every other attempt of it is inspected too (rectifying
//! inspection). Defects found are rejected (back to the agent); the rest go on. The plan
//! is `n` and `c`, or the single-sampling normal-inspection plan of ISO 2859-1
//! (MIL-STD-105E) for an `aql` and an inspection `level`. Inspectors are people: with
//! `fatigue` they tire and take breaks as reviewers and auditors do.

use super::change::{change, Change, Mind, RawExperience, RawPrevalence};
use super::desk::Person;
use super::review::{fatigue, Fatigue, RawFatigue};
use super::skill::{detection, RawDetect};
use super::{raw_stage, staffing, At, AuditItem, Desk, Detection, Kind, Lever, LoadAt, Role, Stage};
use crate::dist::{Dist, RawDist};
use crate::input::{Ctx, Num, S};

/// A lot acceptance sampling stage.
#[derive(Debug, Clone)]
pub struct AcceptanceSampling {
    /// Attempts per lot.
    pub lot: u32,
    /// Sample size (at most `lot`).
    pub n: u32,
    /// Acceptance number: accept the lot with at most `c` defects found in the sample.
    pub c: u32,
    pub reviewers: u32,
    pub service: Dist,
    pub detect: Detection,
    /// Lots are held before release (true), or made of released work (false).
    pub hold: bool,
    /// Released work only: the harm of a defect found after release is multiplied by this.
    pub late_harm_factor: f64,
    /// Inspectors tire and take breaks as reviewers do.
    pub fatigue: Option<Fatigue>,
    /// How the inspectors' detection moves with what they see (prevalence, experience).
    pub change: Change,
}

raw_stage! {
    /// An acceptance sampling stage as written.
    RawLots [classes, learn, cost, tier, difficulty_loading] {
        lot: Option<S<i64>>,
        n: Option<S<i64>>,
        c: Option<S<i64>>,
        aql: Option<S<Num>>,
        level: Option<S<String>>,
        reviewers: Option<S<i64>>,
        service: Option<S<RawDist>>,
        detect: Option<S<RawDetect>>,
        hold: Option<S<bool>>,
        late_harm_factor: Option<S<Num>>,
        fatigue: Option<S<RawFatigue>>,
        prevalence: Option<S<RawPrevalence>>,
        experience: Option<S<RawExperience>>,
    }
}

/// The largest lot: a lot's attempts are held in memory until it is released.
const MAX_LOT: i64 = 1_000_000;

impl Kind for AcceptanceSampling {
    // A lot holds hours of work: the inspectors keep latency, arrival to release, within a day.
    const STAFFING_RULE: Option<&'static str> = Some(super::staffing_rule::P95_LATENCY_24H);
    const LEVERS: &'static [Lever] = &[];
    const NAME: &'static str = "acceptance_sampling";
    type Raw = RawLots;

    fn role(&self) -> Role<'_> {
        Role::Lots(self)
    }

    fn build(ctx: &mut Ctx, r: &RawLots, at: &At) -> AcceptanceSampling {
        let detect = detection(ctx, at, &r.detect);
        let (reviewers, service) = staffing(ctx, at, &r.reviewers, &r.service, "inspectors", "5m");
        let lot = match &r.lot {
            Some(v) => ctx.int(v, &at.key("lot"), 2, MAX_LOT) as u32,
            None => {
                ctx.missing(
                    at.span.clone(),
                    at.path,
                    "lot",
                    "the number of attempts per lot, at least 2",
                );
                MAX_LOT as u32 // so that the plan is not also reported
            }
        };
        let plan = match (&r.n, &r.c, &r.aql, &r.level) {
            (Some(n), Some(c), None, None) => {
                let n = ctx.int(n, &at.key("n"), 1, lot as i64) as u32;
                let c = ctx.int(c, &at.key("c"), 0, n as i64 - 1) as u32;
                (n, c)
            }
            (None, None, Some(aql), level) => {
                let q = iso::AQLS
                    .iter()
                    .position(|&a| (a - aql.get_ref().get()).abs() < 1e-9);
                let Some(q) = q else {
                    let list: Vec<String> = iso::AQLS.iter().map(|a| a.to_string()).collect();
                    ctx.err(
                        aql.span(),
                        &at.key("aql"),
                        format!(
                            "{} is not an AQL of ISO 2859-1's table; allowed: {}",
                            aql.get_ref().get(),
                            list.join(", ")
                        ),
                    );
                    return placeholder(lot, reviewers, service, detect);
                };
                let levels = [("I", 0usize), ("II", 1), ("III", 2)];
                let level = match level {
                    Some(l) => ctx.choice(l, &at.key("level"), &levels).unwrap_or(1),
                    None => 1, // general inspection level II, the standard's default
                };
                let (n, c) = iso::plan(lot, level, q);
                (n.min(lot), c)
            }
            (None, None, None, Some(l)) => {
                ctx.missing(
                    l.span(),
                    at.path,
                    "aql",
                    "the acceptance quality limit, in percent, e.g. 1.0",
                );
                (1, 0)
            }
            (None, None, None, None) => {
                ctx.missing(
                    at.span.clone(),
                    at.path,
                    "n",
                    "a plan: n (sample size) and c (acceptance number), or aql and level",
                );
                (1, 0)
            }
            _ => {
                let sp = (r.aql.as_ref().map(|v| v.span()))
                    .or(r.level.as_ref().map(|v| v.span()))
                    .or(r.n.as_ref().map(|v| v.span()))
                    .or(r.c.as_ref().map(|v| v.span()))
                    .unwrap_or(at.span.clone());
                ctx.err(
                    sp,
                    at.path,
                    "give a plan either as n and c, or as aql (and level), not both and not half of one",
                );
                (1, 0)
            }
        };
        let hold = r.hold.as_ref().is_none_or(|v| *v.get_ref());
        let late_harm_factor = match (&r.late_harm_factor, hold) {
            (None, _) => 0.5,
            (Some(v), false) => ctx.range(
                v,
                &at.key("late_harm_factor"),
                0.0,
                1e6,
                "a non-negative factor on the harm of a defect found late",
            ),
            (Some(v), true) => {
                ctx.err(
                    v.span(),
                    &at.key("late_harm_factor"),
                    "`late_harm_factor` applies to sampling released work (hold = false); held lots release no defect they find",
                );
                0.5
            }
        };
        AcceptanceSampling {
            lot,
            n: plan.0,
            c: plan.1,
            reviewers,
            service,
            detect,
            hold,
            late_harm_factor,
            fatigue: r.fatigue.as_ref().map(|f| fatigue(ctx, f, &at.key("fatigue"))),
            change: change(ctx, at, &r.prevalence, &r.experience, true),
        }
    }

    /// The sampling inspections alone (a lower bound: rejected lots add their rest).
    fn offered_load(&self, stage: &Stage, load: &LoadAt) -> Option<f64> {
        let frac: f64 = (load.classes.iter().enumerate())
            .filter(|(ci, _)| stage.classes.contains(*ci))
            .map(|(ci, c)| c.share * load.tier_share(stage, ci))
            .sum();
        let sampled = self.n as f64 / self.lot as f64;
        Some(load.lambda * frac * sampled * self.service.mean() / self.reviewers as f64)
    }
}

fn placeholder(lot: u32, reviewers: u32, service: Dist, detect: Detection) -> AcceptanceSampling {
    AcceptanceSampling {
        lot,
        n: 1,
        c: 0,
        reviewers,
        service,
        detect,
        hold: true,
        late_harm_factor: 0.5,
        fatigue: None,
        change: Change::default(),
    }
}

/// ISO 2859-1 (MIL-STD-105E) single sampling plans for normal inspection.
pub mod iso {
    /// The AQLs of Table 2-A that this lookup covers (up to 15; the larger ones, in
    /// nonconformities per hundred units, reach acceptance numbers above 21).
    pub const AQLS: [f64; 17] = [
        0.010, 0.015, 0.025, 0.040, 0.065, 0.10, 0.15, 0.25, 0.40, 0.65, 1.0, 1.5, 2.5, 4.0, 6.5, 10.0, 15.0,
    ];
    /// Sample size of each code letter A … R (I and O are not used).
    pub const SAMPLE: [u32; 16] = [
        2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800, 1250, 2000,
    ];
    pub const LETTERS: [char; 16] = [
        'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'K', 'L', 'M', 'N', 'P', 'Q', 'R',
    ];
    /// Table 1: the upper end of each lot-size band, and the code letter (as an index
    /// into [`LETTERS`]) at general inspection levels I, II and III.
    const BANDS: [(u32, [usize; 3]); 15] = [
        (8, [0, 0, 1]),
        (15, [0, 1, 2]),
        (25, [1, 2, 3]),
        (50, [2, 3, 4]),
        (90, [2, 4, 5]),
        (150, [3, 5, 6]),
        (280, [4, 6, 7]),
        (500, [5, 7, 8]),
        (1200, [6, 8, 9]),
        (3200, [7, 9, 10]),
        (10000, [8, 10, 11]),
        (35000, [9, 11, 12]),
        (150000, [10, 12, 13]),
        (500000, [11, 13, 14]),
        (u32::MAX, [12, 14, 15]),
    ];

    /// The code letter (index) for a lot size at general inspection level 0, 1, 2 (I–III).
    pub fn letter(lot: u32, level: usize) -> usize {
        BANDS
            .iter()
            .find(|(top, _)| lot <= *top)
            .map_or(15, |(_, l)| l[level])
    }

    /// Table 2-A's acceptance number on diagonal `d` (letter index + AQL index − 14), or
    /// `None` where the table has an arrow.
    fn acceptance(d: i32) -> Option<u32> {
        match d {
            0 => Some(0),
            3 => Some(1),
            4 => Some(2),
            5 => Some(3),
            6 => Some(5),
            7 => Some(7),
            8 => Some(10),
            9 => Some(14),
            10 => Some(21),
            _ => None,
        }
    }

    /// The plan (n, Ac) for a lot size, level (0–2) and AQL index into [`AQLS`]. Table
    /// 2-A is diagonal: one code letter down and one AQL column left keep the same
    /// acceptance number. Where it has an arrow, the plan is the first one in that AQL's
    /// column in the arrow's direction (with that plan's sample size): below the 0/1 plan
    /// and in the cell after 0/1 the arrow points up, in the next cell down, and past the
    /// 21/22 plan up.
    pub fn plan(lot: u32, level: usize, q: usize) -> (u32, u32) {
        let mut l = letter(lot, level) as i32;
        for _ in 0..64 {
            let d = l + q as i32 - 14;
            if let Some(ac) = acceptance(d) {
                return (SAMPLE[l as usize], ac);
            }
            // Row A has nothing above it: where the published table's arrow after its 0/1
            // points up (AQL 10), there is no plan above, and the first plan below is
            // used. Row R has nothing below it.
            let up = (d == 1 && l > 0) || d > 10 || (d == 2 && l == 15);
            l = if up { l - 1 } else { l + 1 };
            l = l.clamp(0, 15);
        }
        unreachable!("every AQL column has a plan")
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn q(aql: f64) -> usize {
            AQLS.iter().position(|&a| a == aql).unwrap()
        }

        #[test]
        fn code_letters_and_plans_from_the_published_table() {
            // A lot of 501-1,200 at level II: letter J, n = 80; AQL 1.0: Ac 2, Re 3.
            assert_eq!(LETTERS[letter(800, 1)], 'J');
            assert_eq!(plan(800, 1, q(1.0)), (80, 2));
            // More cells of Table 2-A: K at 1.0 is 3/4, L at 2.5 is 10/11, H at 2.5 is
            // 3/4, J at 0.65 is 1/2, J at 0.15 is 0/1.
            assert_eq!(plan(2000, 1, q(1.0)), (125, 3));
            assert_eq!(plan(5000, 1, q(2.5)), (200, 10));
            assert_eq!(plan(400, 1, q(2.5)), (50, 3));
            assert_eq!(plan(800, 1, q(0.65)), (80, 1));
            assert_eq!(plan(800, 1, q(0.15)), (80, 0));
            // Arrows: J at 0.25 points up to H's 0/1 (n = 50); J at 0.40 down to K's 1/2
            // (n = 125); J at 0.010 down to the 0/1 plan of its column (Q, n = 1250).
            assert_eq!(plan(800, 1, q(0.25)), (50, 0));
            assert_eq!(plan(800, 1, q(0.40)), (125, 1));
            assert_eq!(plan(800, 1, q(0.010)), (1250, 0));
            // Row A (n = 2): 0/1 at AQL 6.5; at 10 its arrows point down to C's 1/2.
            assert_eq!(plan(5, 1, q(6.5)), (2, 0));
            assert_eq!(plan(5, 1, q(10.0)), (5, 1));
            // Column 10: C 1/2, D 2/3, K 21/22, and past it L points up to K.
            assert_eq!(plan(30, 1, q(10.0)), (8, 2));
            assert_eq!(plan(2000, 1, q(10.0)), (125, 21));
            assert_eq!(plan(5000, 1, q(10.0)), (125, 21));
            // A lot of 200 (151-280) is G; at AQL 1.0 G's arrow points down to H's 1/2.
            assert_eq!(plan(200, 1, q(1.0)), (50, 1));
            // Level II rows of a published table derived from MIL-STD-105E Tables I and
            // II-A (NIBS, "Table 1-A", AQL 0.65-15), arrows included: B at 4.0 is 0/1, at
            // 6.5 up to A's 0/1, at 10 down to C's 1/2, at 15 1/2; C at 2.5 0/1, at 15
            // 2/3; G at 0.65 up to F's 0/1, at 1.5 1/2, at 15 10/11; K at 0.65 2/3, at 15
            // up to J's 21/22; L at 6.5 21/22, at 10 up to K's 21/22; Q at 0.65 14/15, at
            // 1.5 up to P's 21/22.
            for (lot, aql, expected) in [
                (10, 4.0, (3, 0)),
                (10, 6.5, (2, 0)),
                (10, 10.0, (5, 1)),
                (10, 15.0, (3, 1)),
                (20, 2.5, (5, 0)),
                (20, 15.0, (5, 2)),
                (200, 0.65, (20, 0)),
                (200, 1.5, (32, 1)),
                (200, 15.0, (32, 10)),
                (2000, 0.65, (125, 2)),
                (2000, 15.0, (80, 21)),
                (5000, 6.5, (200, 21)),
                (5000, 10.0, (125, 21)),
                (600_000, 0.65, (1250, 14)),
                (600_000, 1.5, (800, 21)),
            ] {
                assert_eq!(plan(lot, 1, q(aql)), expected, "lot {lot}, AQL {aql}");
            }
            // Levels: a lot of 1,000 is G at level I and K at level III.
            assert_eq!(LETTERS[letter(1000, 0)], 'G');
            assert_eq!(LETTERS[letter(1000, 2)], 'K');
        }
    }
}

/// A lot's attempts and its inspection.
#[derive(Debug, Clone, Default)]
pub struct Lot {
    /// Attempts of the lot, the first `n` being the sample: each as it was when it joined,
    /// with its action when the lot holds it (released work has none).
    pub items: Vec<(Option<u32>, AuditItem)>,
    /// Attempts found defective (rejected when the lot is released).
    pub found: Vec<bool>,
    /// The inspector of each attempt inspected (who signed it off).
    pub by: Vec<u32>,
    /// Defects found in the sample.
    pub found_in_sample: u32,
    /// Inspections not yet done in the current phase.
    pub pending: u32,
    /// The sample failed: the rest of the lot is being inspected.
    pub rejected: bool,
}

/// An acceptance sampling stage's run-time state: the lot being filled, lots under
/// inspection, and the inspectors.
pub struct LotPool {
    pub filling: Vec<(Option<u32>, AuditItem)>,
    pub lots: Vec<Option<Lot>>,
    /// The inspectors; each item is (lot, position in the lot).
    pub desk: Desk<(u32, u32)>,
    /// Each inspector's time on task and breaks.
    pub people: Vec<Person>,
}

impl LotPool {
    /// `minds`: what each inspector has seen.
    pub fn new(minds: Vec<Mind>, lot: u32, w0: f64, w1: f64) -> LotPool {
        LotPool {
            filling: Vec::with_capacity(lot as usize),
            lots: Vec::new(),
            desk: Desk::new(minds.len(), w0, w1),
            people: Person::crew(minds),
        }
    }

    /// A free slot for a new lot.
    pub fn add_lot(&mut self, lot: Lot) -> u32 {
        match self.lots.iter().position(Option::is_none) {
            Some(k) => {
                self.lots[k] = Some(lot);
                k as u32
            }
            None => {
                self.lots.push(Some(lot));
                (self.lots.len() - 1) as u32
            }
        }
    }
}
