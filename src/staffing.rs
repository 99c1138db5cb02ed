//! Staffing by rule, solved where the run is: at every sweep point, exploration set, map
//! cell and lab run, each rule of the scenario ([`crate::scenario::staffing`]) becomes the
//! fewest people (the smallest threshold) that meet it, judged on the run's own
//! replications `0..run.replications` of that policy (all of them, also in a shard, so
//! every shard chooses alike). A run with the chosen numbers written in reproduces the
//! judged values exactly: the same replications of the same scenario.
//!
//! The search for one number, with the policy's other numbers fixed, starts from a bound
//! (the offered load for people, `h` = 8 for a monitor), gallops down while the rule holds
//! or up until it holds, and bisects: it assumes the measure falls as people (or `h`) are
//! added, and reports the measure one step below the choice so a reader can see the
//! rule broken there. A policy with several rules (a review's reviewers and its monitor's
//! `h`, which interact through halts and findings) is solved by rounds, each rule in file
//! order with the others at their latest values, until a round changes nothing (at most
//! [`MAX_ROUNDS`]). Policies are solved independently; every evaluation of every point
//! and policy waiting in a round runs in one parallel batch.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::metrics::RepResult;
use crate::montecarlo::{run_jobs, Job, Workers};
use crate::scenario::staffing::{Key, Measure, Site};
use crate::scenario::Loaded;
use crate::stages::LoadAt;

mod starts;

pub use starts::{written, Starts};

/// Rounds over a policy's rules before its last values are kept as they are.
pub const MAX_ROUNDS: usize = 6;

/// Which number a solved rule set: the key of a staffing.csv row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffedKey {
    pub policy: String,
    /// The stage's name, or `work` for the people doing the work.
    pub stage: String,
    pub key: String,
}

/// What the rule chose, and the measure there and one step below: the values of a
/// staffing.csv row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    #[serde(with = "crate::field")]
    pub chosen: f64,
    pub rule: String,
    /// The rule's bound, in `unit`.
    #[serde(with = "crate::field")]
    pub max: f64,
    pub unit: String,
    /// The measure at the choice (mean over the replications).
    #[serde(with = "crate::field")]
    pub at_chosen: f64,
    /// The measure one step below the choice (empty when the choice is the least allowed).
    #[serde(with = "crate::field")]
    pub at_one_less: f64,
    /// Evaluations (runs of the policy's replications) the search of its policy made.
    pub evaluations: u64,
    /// The policy's rules settled (a round changed nothing); empty when they alternated
    /// and each number took the largest it had.
    #[serde(with = "crate::field::yes_or_empty")]
    pub settled: bool,
}

/// One solved rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Staffed {
    pub key: StaffedKey,
    pub choice: Choice,
}

/// What solving a plan's rules gives: the points with the chosen numbers written in.
pub struct Solved {
    pub points: Vec<Loaded>,
    /// Where the searches started (the first point's choices, unless given).
    pub starts: Starts,
    /// `[point][policy]`: the replications `0..run.replications` of a policy whose rules
    /// were solved, run at the chosen values (the run does not run them again).
    pub results: Vec<Vec<Option<Vec<RepResult>>>>,
    /// Per point, its rules in file order.
    pub rows: Vec<Vec<Staffed>>,
    pub warnings: Vec<String>,
}

/// Why a search stopped before its answer.
enum Halt {
    /// It needs the measures at these step indices.
    Need(Vec<i64>),
    /// Rule `i` is not met even at the largest value allowed.
    Unmet(usize),
}

/// A search's answer for one policy.
struct Outcome {
    values: Vec<i64>,
    at: Vec<f64>,
    below: Vec<f64>,
    settled: bool,
}

/// Measures (one per rule of the policy) by step indices.
type Cache = HashMap<Vec<i64>, Vec<f64>>;

/// Meets rule `i`: the measure is at most its bound (an undefined measure, such as the
/// wait where nobody waited, meets it).
fn meets(sites: &[&Site], cache: &Cache, x: &[i64], i: usize) -> Result<bool, Halt> {
    let m = cache.get(x).ok_or_else(|| Halt::Need(x.to_vec()))?[i];
    Ok(m.is_nan() || m <= sites[i].rule.max)
}

/// The smallest step index of rule `i` that meets it, the others as in `x`.
fn smallest(sites: &[&Site], cache: &Cache, x: &[i64], i: usize) -> Result<i64, Halt> {
    let key = sites[i].key;
    let (min, max) = (key.min_index(), key.max_index(sites[i].rule.step));
    let at = |k: i64| {
        let mut y = x.to_vec();
        y[i] = k;
        meets(sites, cache, &y, i)
    };
    // `lo` breaks the rule (or is below the least allowed), `hi` meets it.
    let (mut lo, mut hi);
    if at(x[i])? {
        hi = x[i];
        let mut d = 1;
        loop {
            let c = hi - d;
            if c < min {
                lo = min - 1;
                break;
            }
            if at(c)? {
                hi = c;
                d *= 2;
            } else {
                lo = c;
                break;
            }
        }
    } else {
        lo = x[i];
        let mut d = 1;
        loop {
            let c = (lo + d).min(max);
            if at(c)? {
                hi = c;
                break;
            }
            if c == max {
                return Err(Halt::Unmet(i));
            }
            lo = c;
            d *= 2;
        }
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if at(mid)? {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(hi)
}

/// Solves a policy's rules by rounds from `start`, as far as `cache` allows.
fn search(sites: &[&Site], start: &[i64], cache: &Cache) -> Result<Outcome, Halt> {
    let mut x = start.to_vec();
    let mut settled = false;
    let mut seen: Vec<Vec<i64>> = Vec::new();
    for _ in 0..MAX_ROUNDS {
        let mut changed = false;
        for i in 0..sites.len() {
            let k = smallest(sites, cache, &x, i)?;
            if k != x[i] {
                x[i] = k;
                changed = true;
            }
        }
        if !changed {
            settled = true;
            break;
        }
        // Rules that pull against each other (more reviewers, more findings, more alarms)
        // can alternate between values: then each number takes the largest it had in the
        // cycle, the cautious choice, and the run says so.
        if let Some(first) = seen.iter().position(|s| *s == x) {
            for s in &seen[first..] {
                for (xi, si) in x.iter_mut().zip(s) {
                    *xi = (*xi).max(*si);
                }
            }
            break;
        }
        seen.push(x.clone());
    }
    let at = cache.get(&x).ok_or_else(|| Halt::Need(x.clone()))?.clone();
    let mut below = Vec::with_capacity(sites.len());
    for (i, s) in sites.iter().enumerate() {
        if x[i] > s.key.min_index() {
            let mut y = x.clone();
            y[i] -= 1;
            below.push(cache.get(&y).ok_or(Halt::Need(y))?[i]);
        } else {
            below.push(f64::NAN);
        }
    }
    Ok(Outcome {
        values: x,
        at,
        below,
        settled,
    })
}

/// Where the search for `site` starts: for people, a little above the fewest that could
/// carry the offered load at the bound (`loaded` holds one person in place of each rule); for a
/// monitor, `h` = 8, what the rule chose in every shipped scenario's sweep (any start
/// gives the same answer when the measure falls as `h` rises; a close one saves runs).
fn start(loaded: &Loaded, site: &Site) -> i64 {
    let sc = &loaded.scenario;
    let p = &sc.policies[site.policy_index];
    let lambda = sc.workload.mean_rate();
    let offered = match (site.key, site.stage_index) {
        (Key::WorkPeople, _) => p.work.offered_load(lambda, &sc.workload.classes),
        (Key::Reviewers, Some(s)) => {
            let load = LoadAt {
                lambda,
                classes: &sc.workload.classes,
                stages: &p.stages,
                index: s,
            };
            p.stages[s].kind.offered_load(&p.stages[s], &load)
        }
        (Key::H, _) | (Key::Reviewers, None) => None,
    };
    let k = match (site.key, offered) {
        (Key::H, _) => (8.0 / site.rule.step).round(),
        (_, None) => 1.0,
        (_, Some(a)) if site.rule.measure == Measure::Utilization => (a / site.rule.max).ceil(),
        // A wait bound needs some slack above the load; below one person's worth of load
        // one person may do (and then nothing below needs running).
        (_, Some(a)) if a < 1.0 => 1.0,
        (_, Some(a)) => a.floor() + 2.0,
    };
    (k as i64).clamp(site.key.min_index(), site.key.max_index(site.rule.step))
}

/// The mean over replications of a rule's measure (its finite values; NaN if none).
fn mean_measure(site: &Site, reps: &[RepResult], horizon: f64) -> f64 {
    let v: Vec<f64> = (reps.iter().map(|r| site.measure(r, horizon)))
        .filter(|m| m.is_finite())
        .collect();
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// One (point, policy) whose rules are being solved.
struct Task {
    point: usize,
    policy: usize,
    /// Indices into the point's `staffing`.
    sites: Vec<usize>,
    start: Vec<i64>,
    cache: Cache,
    evaluations: u64,
    done: Option<Outcome>,
    /// The latest evaluation that met every rule, with its replications: the choice, once
    /// the rounds settle (each round evaluates the values it ends with first).
    kept: Option<(Vec<i64>, Vec<RepResult>)>,
}

/// Runs the searches of the tasks `which` selects to their ends, every pending evaluation
/// of a round in one batch. `Ok(false)` if cancelled.
fn run_tasks(
    points: &[&Loaded],
    tasks: &mut [Task],
    which: &dyn Fn(&Task) -> bool,
    workers: Workers,
    on_done: &(dyn Fn() + Sync),
) -> Result<bool, String> {
    loop {
        let mut requests: Vec<(usize, Vec<i64>)> = Vec::new();
        for (t, task) in tasks.iter_mut().enumerate() {
            if task.done.is_some() || !which(task) {
                continue;
            }
            let pt = points[task.point];
            let sites: Vec<&Site> = task.sites.iter().map(|&i| &pt.staffing[i]).collect();
            match search(&sites, &task.start, &task.cache) {
                Ok(o) => task.done = Some(o),
                Err(Halt::Need(x)) => requests.push((t, x)),
                Err(Halt::Unmet(i)) => {
                    let s = sites[i];
                    return Err(format!(
                        "{}: {}: no value up to {} meets the staffing rule ({})",
                        pt.label,
                        s.diag,
                        s.key.toml(s.key.max_index(s.rule.step), s.rule.step),
                        s.rule.describe(),
                    ));
                }
            }
        }
        if requests.is_empty() {
            break;
        }
        // The scenarios to evaluate: each task's values, the point's other rules at their starts.
        let mut loaded = Vec::with_capacity(requests.len());
        for (t, x) in &requests {
            let task = &tasks[*t];
            let pt = points[task.point];
            let mut values: Vec<i64> = vec![1; pt.staffing.len()];
            for (j, &i) in task.sites.iter().enumerate() {
                values[i] = x[j];
            }
            loaded.push(pt.with_staffing(&values).map_err(|e| e.to_string())?);
        }
        let jobs: Vec<Job> = (requests.iter().zip(&loaded))
            .map(|((t, _), l)| Job {
                scenario: &l.scenario,
                policy: tasks[*t].policy,
                replications: l.scenario.run.replications,
            })
            .collect();
        let Some(results) = run_jobs(workers, &jobs, on_done)? else {
            return Ok(false);
        };
        for (((t, x), reps), l) in requests.into_iter().zip(results).zip(&loaded) {
            let task = &mut tasks[t];
            let pt = points[task.point];
            let horizon = l.scenario.run.horizon;
            let m: Vec<f64> = (task.sites.iter())
                .map(|&i| mean_measure(&pt.staffing[i], &reps, horizon))
                .collect();
            let all_met =
                (task.sites.iter().zip(&m)).all(|(&i, m)| m.is_nan() || *m <= pt.staffing[i].rule.max);
            if all_met {
                task.kept = Some((x.clone(), reps));
            }
            task.cache.insert(x, m);
            task.evaluations += 1;
        }
    }
    Ok(true)
}

/// Solves every point's rules. Without `starts`, the first point's rules are solved first
/// and its choices start every other point's searches (a sweep's or an exploration's points
/// mostly choose alike, so most searches then need only the choice and one step below each
/// rule); with them, every point starts there. `Ok(None)` if cancelled; `Err` names a rule
/// that cannot be met or a fault of the engine. Points without rules come back as they are.
pub fn solve(
    points: &[&Loaded],
    starts: Option<&Starts>,
    workers: Workers,
    on_done: &(dyn Fn() + Sync),
) -> Result<Option<Solved>, String> {
    let mut tasks: Vec<Task> = Vec::new();
    for (k, pt) in points.iter().enumerate() {
        for p in 0..pt.scenario.policies.len() {
            let sites: Vec<usize> = (pt.staffing.iter().enumerate())
                .filter(|(_, s)| s.policy_index == p)
                .map(|(i, _)| i)
                .collect();
            if sites.is_empty() {
                continue;
            }
            let start = sites.iter().map(|&i| start(pt, &pt.staffing[i])).collect();
            tasks.push(Task {
                point: k,
                policy: p,
                sites,
                start,
                cache: Cache::new(),
                evaluations: 0,
                done: None,
                kept: None,
            });
        }
    }
    let starts = match starts {
        Some(s) => s.clone(),
        None => {
            if !run_tasks(points, &mut tasks, &|t| t.point == 0, workers, on_done)? {
                return Ok(None);
            }
            let mut first = vec![1; points.first().map_or(0, |p| p.staffing.len())];
            for t in tasks.iter().filter(|t| t.point == 0) {
                let o = t.done.as_ref().expect("the first point's searches finished");
                for (j, &i) in t.sites.iter().enumerate() {
                    first[i] = o.values[j];
                }
            }
            points
                .first()
                .map_or(Starts(Vec::new()), |p| Starts::of(p, &first))
        }
    };
    for t in tasks.iter_mut().filter(|t| t.done.is_none()) {
        let paths: Vec<String> = t
            .sites
            .iter()
            .map(|&i| points[t.point].staffing[i].path.clone())
            .collect();
        if let Some((_, _, v)) = starts.0.iter().find(|(p, ps, _)| *p == t.policy && *ps == paths) {
            t.start = v.clone();
        }
    }
    if !run_tasks(points, &mut tasks, &|t| t.done.is_none(), workers, on_done)? {
        return Ok(None);
    }
    let mut values: Vec<Vec<i64>> = points.iter().map(|p| vec![1; p.staffing.len()]).collect();
    let mut rows: Vec<Vec<Option<Staffed>>> = points.iter().map(|p| vec![None; p.staffing.len()]).collect();
    let mut warnings = Vec::new();
    let mut results: Vec<Vec<Option<Vec<RepResult>>>> = points
        .iter()
        .map(|p| vec![None; p.scenario.policies.len()])
        .collect();
    for task in &mut tasks {
        let pt = points[task.point];
        let o = task.done.as_ref().expect("every search finished");
        if let Some((x, reps)) = task.kept.take() {
            if x == o.values {
                results[task.point][task.policy] = Some(reps);
            }
        }
        if !o.settled {
            warnings.push(format!(
                "warning: {}: the staffing rules of policy `{}` do not settle (each pulls the other; see staffing.csv): each number is the largest it took in the last rounds",
                pt.label, pt.scenario.policies[task.policy].name
            ));
        }
        for (j, &i) in task.sites.iter().enumerate() {
            let s = &pt.staffing[i];
            values[task.point][i] = o.values[j];
            rows[task.point][i] = Some(Staffed {
                key: StaffedKey {
                    policy: s.policy.clone(),
                    stage: s.stage.clone().unwrap_or_else(|| "work".into()),
                    key: s.key.name().into(),
                },
                choice: Choice {
                    chosen: o.values[j] as f64 * s.rule.step,
                    rule: s.rule.measure.name().into(),
                    max: s.rule.max,
                    unit: s.rule.measure.unit(&s.rule.per_text),
                    at_chosen: o.at[j],
                    at_one_less: o.below[j],
                    evaluations: task.evaluations,
                    settled: o.settled,
                },
            });
        }
    }
    let mut solved = Vec::with_capacity(points.len());
    for (pt, v) in points.iter().zip(&values) {
        solved.push(match pt.staffing.is_empty() {
            true => (*pt).clone(),
            false => pt.with_staffing(v).map_err(|e| e.to_string())?,
        });
    }
    Ok(Some(Solved {
        points: solved,
        starts,
        results,
        rows: (rows.into_iter())
            .map(|r| r.into_iter().map(|s| s.expect("every rule solved")).collect())
            .collect(),
        warnings,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::staffing::Rule;

    fn site(key: Key, measure: Measure, max: f64) -> Site {
        Site {
            path: String::new(),
            diag: String::new(),
            policy: "p".into(),
            stage: None,
            key,
            rule: Rule {
                measure,
                max,
                max_text: String::new(),
                per: 720.0,
                per_text: "30d".into(),
                step: 1.0,
            },
            policy_index: 0,
            stage_index: None,
        }
    }

    /// Runs the search to its end, evaluating `f` wherever it asks; the evaluations made.
    fn drive(sites: &[&Site], start: &[i64], f: impl Fn(&[i64]) -> Vec<f64>) -> (Outcome, usize) {
        let mut cache = Cache::new();
        loop {
            match search(sites, start, &cache) {
                Ok(o) => return (o, cache.len()),
                Err(Halt::Need(x)) => {
                    let m = f(&x);
                    cache.insert(x, m);
                }
                Err(Halt::Unmet(i)) => panic!("rule {i} unmet"),
            }
        }
    }

    #[test]
    fn the_fewest_that_meet_the_rule_from_above_or_below() {
        // A wait that falls as people are added: 30/n minutes; at most 7 → n = 5 (6 at 4).
        let s = site(Key::Reviewers, Measure::P95Wait, 7.0);
        for start in [1, 4, 5, 9, 40] {
            let (o, evals) = drive(&[&s], &[start], |x| vec![30.0 / x[0] as f64]);
            assert_eq!(o.values, [5], "from {start}");
            assert_eq!((o.at[0], o.below[0]), (6.0, 7.5));
            assert!(o.settled);
            // Galloping then bisecting: about 2 log2(distance) + 2 evaluations.
            assert!(evals <= 12, "from {start}: {evals} evaluations");
        }
        // Met by one person: nothing below it.
        let (o, _) = drive(&[&s], &[3], |_| vec![1.0]);
        assert_eq!(o.values, [1]);
        assert!(o.below[0].is_nan());
    }

    #[test]
    fn interacting_rules_settle_together() {
        // The wait depends on the threshold too (halts pile work up): 30/n + 12/h; the
        // alarms fall with h: 20/h. Rules: wait ≤ 8, alarms ≤ 2 → h = 10, then n with
        // 30/n ≤ 6.8 → n = 5.
        let wait = site(Key::Reviewers, Measure::P95Wait, 8.0);
        let alarms = site(Key::H, Measure::FalseAlarms, 2.0);
        let f = |x: &[i64]| {
            let (n, h) = (x[0] as f64, x[1] as f64);
            vec![30.0 / n + 12.0 / h, 20.0 / h]
        };
        let (o, _) = drive(&[&wait, &alarms], &[1, 4], f);
        assert_eq!(o.values, [5, 10]);
        assert!(o.settled);
        // The choice meets both rules; one below each breaks its own.
        assert!(o.at[0] <= 8.0 && o.at[1] <= 2.0, "{:?}", o.at);
        assert!(o.below[0] > 8.0 && o.below[1] > 2.0, "{:?}", o.below);
    }

    #[test]
    fn a_rule_no_number_meets_says_so() {
        let s = site(Key::H, Measure::FalseAlarms, 0.5);
        let cache = Cache::new();
        let mut cache = cache;
        let out = loop {
            match search(&[&s], &[4], &cache) {
                Err(Halt::Need(x)) => {
                    cache.insert(x, vec![1.0]);
                }
                other => break other,
            }
        };
        assert!(matches!(out, Err(Halt::Unmet(0))));
    }
}
