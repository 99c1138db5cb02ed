//! `kind = "triage"`: decides which actions count as high-risk. Each action is flagged once,
//! on its first attempt, with its class's probability `flag`; later stages with
//! `tier = "flagged"` or `tier = "unflagged"` take only those actions. Real triage errs: a
//! high-impact action it misses goes down the unflagged path. People who triage (`reviewers`)
//! decide when they finish an action and, with `fatigue`, tire as reviewers do: a tired
//! person flags less, both the actions that should be flagged and the others (a criterion
//! shift: fewer hits and fewer false alarms, parameters.md A.2).

use std::collections::BTreeMap;

use super::change::{change, Change, Mind, RawExperience, RawPrevalence};
use super::desk::{Desk, Person};
use super::review::{fatigue, Fatigue, RawFatigue};
use super::{raw_stage, staffing, At, Kind, Lever, LoadAt, Role, Stage};
use crate::dist::{Dist, RawDist};
use crate::input::{unknown, Ctx, Num, S};

/// Triage: per class, the probability that an action is flagged.
#[derive(Debug, Clone)]
pub struct Triage {
    /// By class index; a class not named in `flag` is never flagged.
    pub flag: Vec<f64>,
    /// Delay of an infinite-server triage (a classifier call, ample staff); `None` is
    /// instantaneous. With `people` it is each person's time per action.
    pub service: Option<Dist>,
    /// People who triage, one FIFO queue, always on duty (their hours count in
    /// `reviewer_hours` and cost); `None` for automated triage.
    pub people: Option<u32>,
    /// People who triage tire and take breaks as reviewers do.
    pub fatigue: Option<Fatigue>,
    /// How the people's flagging moves with what they see (prevalence, experience).
    pub change: Change,
}

/// A triage desk's run-time state: the queue and the people at it.
pub struct TriageDesk {
    pub desk: Desk<u32>,
    pub people: Vec<Person>,
}

impl TriageDesk {
    /// `minds`: what each person has seen.
    pub fn new(minds: Vec<Mind>, w0: f64, w1: f64) -> TriageDesk {
        TriageDesk {
            desk: Desk::new(minds.len(), w0, w1),
            people: Person::crew(minds),
        }
    }
}

raw_stage! {
    /// A triage stage as written.
    RawTriage [cost] {
        flag: Option<S<BTreeMap<String, S<Num>>>>,
        service: Option<S<RawDist>>,
        reviewers: Option<S<i64>>,
        fatigue: Option<S<RawFatigue>>,
        prevalence: Option<S<RawPrevalence>>,
        experience: Option<S<RawExperience>>,
    }
}

impl Kind for Triage {
    // Triage holds up the work, as a review does.
    const STAFFING_RULE: Option<&'static str> = Some(super::staffing_rule::P95_WAIT);
    const LEVERS: &'static [Lever] = &[];
    const NAME: &'static str = "triage";
    type Raw = RawTriage;

    fn role(&self) -> Role<'_> {
        Role::Triage(self)
    }

    fn build(ctx: &mut Ctx, r: &RawTriage, at: &At) -> Triage {
        let names: Vec<&str> = at.classes.iter().map(|c| c.name.as_str()).collect();
        let mut flag = vec![0.0; at.classes.len()];
        match &r.flag {
            None => ctx.missing(
                at.span.clone(),
                at.path,
                "flag",
                "a table of class name to the probability that an action of the class is flagged, e.g. { high-impact = 0.95, routine = 0.02 }",
            ),
            Some(table) => {
                for (class, p) in table.get_ref() {
                    let path = format!("{}.flag.{class}", at.path);
                    match names.iter().position(|n| n == class) {
                        Some(ci) => flag[ci] = ctx.prob(p, &path),
                        None => {
                            let head = format!("no class named `{class}`");
                            ctx.err(p.span(), &path, unknown(head, class, &names, Some("classes are")));
                        }
                    }
                }
            }
        }
        let (service, people) = match &r.reviewers {
            // People: a queue with a service time, as an audit's.
            Some(_) => {
                let (people, service) =
                    staffing(ctx, at, &r.reviewers, &r.service, "people who triage", "2m");
                (Some(service), Some(people))
            }
            None => (
                (r.service.as_ref()).map(|d| Dist::parse(ctx, d, &at.key("service"), true)),
                None,
            ),
        };
        let fatigue = match (&r.fatigue, people) {
            (Some(f), Some(_)) => Some(fatigue(ctx, f, &at.key("fatigue"))),
            (Some(f), None) => {
                ctx.err(
                    f.span(),
                    &at.key("fatigue"),
                    "is for people who triage; set `reviewers` (and `service`) to use it, or remove `fatigue` (automated triage does not tire)",
                );
                None
            }
            (None, _) => None,
        };
        Triage {
            flag,
            service,
            people,
            fatigue,
            change: change(ctx, at, &r.prevalence, &r.experience, people.is_some()),
        }
    }

    /// People who triage see every action (a lower bound: rework attempts come back).
    fn offered_load(&self, _: &Stage, load: &LoadAt) -> Option<f64> {
        let people = self.people?;
        let mean = self.service.as_ref().map_or(0.0, Dist::mean);
        Some(load.lambda * mean / people as f64)
    }
}
