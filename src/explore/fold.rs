//! What an exploration keeps of its sets: each set's replications folded, as soon as the set
//! finishes, into what the analysis reads of it (means, bad months, whether the policies
//! meet the constraints, a one-set map cell's interval), and each Sobol group's
//! replications, once its k + 2 sets have finished, into the terms of the sensitivity
//! estimators. The replications are then dropped, so an exploration's memory grows with
//! its sets and outputs, not with its replications.
//!
//! The folds are made by the same arithmetic the analysis used on the replications (the
//! same sums in the same order), so the files are the same byte for byte however the sets
//! arrive: folded while the exploration runs, or all at once from a merge's replications.

use std::collections::BTreeMap;

use crate::experiment::RunData;
use crate::metrics::{MetricRow, M};
use crate::montecarlo::Results;
use crate::stats::{summarize, Summary};

use super::analysis::{Outcome, Output, BAD_MONTHS};
use super::design::DesignKind;
use super::map::ranked;
use super::sensitivity::{terms_at, terms_len};
use super::Exploration;

/// One set's replications, folded.
#[derive(Debug, Clone)]
pub struct SetFold {
    /// Per policy: its replications.
    n: Vec<usize>,
    /// Per policy: the sum of each metric's defined values, in replication order…
    sums: Vec<MetricRow>,
    /// … and how many are defined, per metric (in [`M::ALL`]'s order).
    defined: Vec<Vec<u32>>,
    /// Per policy: each of [`BAD_MONTHS`]' bad month.
    bad: Vec<Vec<f64>>,
    /// Per policy: whether it meets every `[decision]` constraint on the set's estimates.
    meets: Vec<bool>,
    /// A map cell of one set: its best − runner-up over the replications.
    cell: Option<Summary>,
}

impl SetFold {
    /// Folds the replications of one set.
    fn of(ex: &Exploration, results: &Results) -> SetFold {
        let per = &results.per_policy;
        let mut sums = vec![MetricRow::default(); per.len()];
        let mut defined = vec![vec![0u32; M::ALL.len()]; per.len()];
        for (p, reps) in per.iter().enumerate() {
            for (k, &m) in M::ALL.iter().enumerate() {
                let values = reps.iter().map(|r| r.metrics[m]).filter(|x| !x.is_nan());
                sums[p][m] = values.clone().sum::<f64>();
                defined[p][k] = values.count() as u32;
            }
        }
        let values = |p: usize, m: M| -> Vec<f64> { per[p].iter().map(|r| r.metrics[m]).collect() };
        let bad = (0..per.len())
            .map(|p| {
                (BAD_MONTHS.iter())
                    .map(|&m| Outcome::BadMonth(m).of(values(p, m)))
                    .collect()
            })
            .collect();
        let constraints = &ex.plan.base().decision.constraints;
        let meets = (0..per.len())
            .map(|p| (constraints.iter()).all(|c| c.holds(&values(p, c.metric))))
            .collect();
        let mut fold = SetFold {
            n: per.iter().map(Vec::len).collect(),
            sums,
            defined,
            bad,
            meets,
            cell: None,
        };
        if ex.map.as_ref().is_some_and(|m| m.per_cell == 1) {
            let dir = ex.metric.direction().expect("a decision metric has a direction");
            let means: Vec<f64> = (0..per.len()).map(|p| fold.mean(p, ex.metric)).collect();
            let (best, runner_up) = ranked(&means, dir);
            let diffs = (per[best].iter().zip(&per[runner_up]))
                .map(|(x, y)| x.metrics[ex.metric] - y.metrics[ex.metric]);
            fold.cell = Some(summarize(diffs.collect::<Vec<_>>()));
        }
        fold
    }

    /// Policies.
    pub fn policies(&self) -> usize {
        self.n.len()
    }

    /// Policy `p`'s mean of `m` over the set's replications: undefined (`NaN`) if `m` is
    /// undefined in any of them, as a draw's value is.
    pub fn mean(&self, p: usize, m: M) -> f64 {
        match self.defined[p][m as usize] as usize == self.n[p] {
            true => self.sums[p][m] / self.n[p] as f64,
            false => f64::NAN,
        }
    }

    /// Policy `p`'s mean of `m` over the replications where it is defined (explore.csv's, as
    /// [`crate::stats::mean`] gives it); `NaN` where it is defined in none.
    pub fn mean_of_defined(&self, p: usize, m: M) -> f64 {
        match self.defined[p][m as usize] {
            0 => f64::NAN,
            d => self.sums[p][m] / f64::from(d),
        }
    }

    /// Policy `p`'s outcome `o` at this set.
    pub fn outcome(&self, o: Outcome, p: usize) -> f64 {
        match o {
            Outcome::Mean(m) => self.mean(p, m),
            Outcome::BadMonth(m) => {
                let i = BAD_MONTHS.iter().position(|&b| b == m);
                self.bad[p][i.expect("bad months are folded for BAD_MONTHS")]
            }
        }
    }

    /// Whether policy `p` meets every `[decision]` constraint here.
    pub fn meets(&self, p: usize) -> bool {
        self.meets[p]
    }

    /// A one-set map cell's best − runner-up over its replications.
    pub fn cell(&self) -> Option<&Summary> {
        self.cell.as_ref()
    }
}

/// The outputs whose sensitivity an exploration estimates, in the order of its files: per
/// metric, each policy's value, then each policy's paired difference from the baseline.
pub fn outputs(policies: usize, baseline: usize) -> Vec<(M, Output)> {
    let mut out = Vec::new();
    for &m in M::ALL {
        out.extend((0..policies).map(|p| (m, Output::Policy(p))));
        out.extend(
            (0..policies)
                .filter(|&p| p != baseline)
                .map(|p| (m, Output::Difference(p))),
        );
    }
    out
}

/// An exploration's sets, folded: everything its analysis and files read of the replications.
#[derive(Debug, Clone)]
pub struct Folded {
    pub sets: Vec<SetFold>,
    /// A Sobol design's terms, per base point.
    terms: Vec<GroupTerms>,
    pub baseline: usize,
}

impl Folded {
    /// Folds a complete run's replications (a merge's, or a run whose sets were not folded
    /// as they finished).
    pub fn of(ex: &Exploration, run: &RunData) -> Folded {
        let mut folder = Folder::new(ex, run.baseline);
        for (s, point) in run.points.iter().enumerate() {
            folder.add(s, point.results.clone());
        }
        folder.finish()
    }

    /// Output `o`'s terms ([`outputs`]' order) at every base point of a Sobol design;
    /// `None` if it is undefined in some replication.
    pub fn terms(&self, o: usize) -> Option<Vec<&[f64]>> {
        self.terms.iter().map(|t| t.of(o)).collect()
    }
}

/// One base point's terms of every output, flat ([`terms_at`]'s numbers, output after
/// output), and which outputs are defined in all its replications.
#[derive(Debug, Clone)]
struct GroupTerms {
    values: Vec<f64>,
    defined: Vec<bool>,
}

impl GroupTerms {
    fn of(&self, o: usize) -> Option<&[f64]> {
        let w = self.values.len() / self.defined.len();
        self.defined[o].then(|| &self.values[o * w..(o + 1) * w])
    }
}

/// Folds an exploration's sets as they finish, holding a Sobol group's replications until
/// its last set is in.
pub struct Folder<'a> {
    ex: &'a Exploration,
    baseline: usize,
    sets: Vec<Option<SetFold>>,
    /// Sets of unfinished Sobol groups, by index.
    waiting: BTreeMap<usize, Results>,
    terms: Vec<Option<GroupTerms>>,
}

impl<'a> Folder<'a> {
    pub fn new(ex: &'a Exploration, baseline: usize) -> Folder<'a> {
        let sobol = ex.map.is_none() && ex.design.kind == DesignKind::Sobol;
        Folder {
            ex,
            baseline,
            sets: vec![None; ex.plan.points.len()],
            waiting: BTreeMap::new(),
            terms: vec![None; if sobol { ex.design.n } else { 0 }],
        }
    }

    /// Folds set `s`, whose replications have all finished.
    pub fn add(&mut self, s: usize, results: Results) {
        self.sets[s] = Some(SetFold::of(self.ex, &results));
        if self.terms.is_empty() {
            return;
        }
        let g = self.ex.design.group();
        let j = s / g;
        self.waiting.insert(s, results);
        let group = j * g..(j + 1) * g;
        if self.waiting.range(group.clone()).count() < g {
            return;
        }
        let sets: Vec<Results> = group.map(|k| self.waiting.remove(&k).expect("counted")).collect();
        let n_pol = sets[0].per_policy.len();
        let outputs = outputs(n_pol, self.baseline);
        let mut t = GroupTerms {
            values: Vec::with_capacity(outputs.len() * terms_len(g - 2)),
            defined: Vec::with_capacity(outputs.len()),
        };
        for (m, output) in outputs {
            let y: Vec<Vec<f64>> = (sets.iter())
                .map(|set| {
                    let of = |p: usize| set.per_policy[p].iter().map(move |r| r.metrics[m]);
                    match output {
                        Output::Policy(p) => of(p).collect(),
                        Output::Difference(p) => of(p).zip(of(self.baseline)).map(|(x, b)| x - b).collect(),
                    }
                })
                .collect();
            // An output undefined in some replication has no variance to share out.
            let defined = !y.iter().flatten().any(|v| v.is_nan());
            match defined {
                true => terms_at(&y, &mut t.values),
                false => t.values.resize(t.values.len() + terms_len(g - 2), f64::NAN),
            }
            t.defined.push(defined);
        }
        self.terms[j] = Some(t);
    }

    /// The folds of every set; panics if a set was not added (a fault of the caller).
    pub fn finish(self) -> Folded {
        Folded {
            sets: (self.sets.into_iter())
                .map(|s| s.expect("every set is folded before the analysis"))
                .collect(),
            terms: (self.terms.into_iter())
                .map(|t| t.expect("every Sobol group is complete"))
                .collect(),
            baseline: self.baseline,
        }
    }
}
