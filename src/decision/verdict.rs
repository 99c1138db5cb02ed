//! The verdict in plain sentences, from decision.csv's rows: the best policy that meets
//! every constraint, its margins, the status quo, a bad replication, whether the work is
//! worth doing at all, and what is uncertain.

use super::{decisions, num, DecisionRow};
use crate::experiment::RunData;
use crate::production::Who;

/// Every point's verdict: (the point's swept values, its sentences).
pub fn verdicts(run: &RunData) -> Vec<(Vec<String>, Vec<String>)> {
    (run.points.iter().zip(decisions(run)))
        .map(|(pt, rows)| {
            let names: Vec<String> = pt.scenario.policies.iter().map(|p| p.name.clone()).collect();
            let no_value = pt.scenario.workload.classes.iter().all(|c| c.value == 0.0);
            (pt.values.clone(), verdict(&names, &rows, no_value))
        })
        .collect()
}

/// A signed difference with its interval: `+3.97M [+3.69M, +4.24M]`.
fn signed(mean: f64, lo: f64, hi: f64) -> String {
    let s = |x: f64| match x {
        0.0 => "0".to_string(),
        x if x > 0.0 => format!("+{}", num(x)),
        x => num(x),
    };
    format!("{} [{}, {}]", s(mean), s(lo), s(hi))
}

/// Whether two or more policies meet every constraint and all score exactly the same in
/// every replication (a scenario without money has a net value of 0 throughout).
fn level(rows: &[DecisionRow]) -> bool {
    let ranked: Vec<&DecisionRow> = rows.iter().filter(|r| r.rank.is_some()).collect();
    ranked.len() > 1
        && ranked
            .iter()
            .all(|r| r.mean == ranked[0].mean && r.vs_best_low == 0.0 && r.vs_best_high == 0.0)
}

/// The verdict in plain sentences, from one point's rows (`policies` in the same order):
/// the best policy that meets every constraint, its margin over the runner-up and over the
/// status quo (paired 95% intervals), whether any agent policy beats the status quo, a bad
/// month, whether the work is worth doing at all, and what is uncertain. `no_value`: the
/// scenario gives its work no value (net value is then only a difference of costs).
pub fn verdict(policies: &[String], rows: &[DecisionRow], no_value: bool) -> Vec<String> {
    let mut out = Vec::new();
    let r = Ranking { policies, rows };
    match r.ranked(1) {
        None => out.push(none_feasible(&r)),
        Some((_, b)) if level(rows) => {
            out.push(format!(
                "The policies are level on {}: it is {} in every replication of each, so it cannot decide here (a scenario without costs or values has a net value of 0); choose another metric in [decision], such as harm or escapes_per_1k.",
                r.metric(),
                num(b.mean)
            ));
        }
        Some((best, b)) => {
            out.push(headline(&r, best, b));
            out.extend(against_status_quo(&r, b));
            if b.bad_month.is_finite() && b.ci_low.is_finite() {
                out.push(format!(
                    "{best}'s {} in a bad replication (the worst 1 in 20): {}{}.",
                    r.metric(),
                    num(b.bad_month),
                    r.unit()
                ));
            }
            out.extend(worth_doing(&r, best, b, no_value));
        }
    }
    out.extend(duties_broken(&r));
    out.extend(unsettled(&r));
    out
}

/// The policies that break a duty, and how: they cannot be chosen, whatever they score.
fn duties_broken(r: &Ranking) -> Option<String> {
    let each: Vec<String> = (r.policies.iter().zip(r.rows))
        .filter(|(_, row)| !row.duties_broken.is_empty())
        .map(|(p, row)| format!("{p} breaks {}", row.duties_broken))
        .collect();
    (!each.is_empty()).then(|| {
        format!(
            "A duty requires a person to review these actions before release, so a policy that releases one unreviewed cannot be chosen: {}.",
            each.join("; ")
        )
    })
}

/// The policies and their decision rows, in the scenario's order.
struct Ranking<'a> {
    policies: &'a [String],
    rows: &'a [DecisionRow],
}

impl<'a> Ranking<'a> {
    /// The decision metric's name.
    fn metric(&self) -> &'a str {
        self.rows.first().map_or("net_value", |r| r.metric.as_str())
    }

    /// " USD per 30d" after each figure, or nothing for a metric without a unit.
    fn unit(&self) -> String {
        match self.rows.first() {
            Some(r) if !r.unit.is_empty() => format!(" {}", r.unit),
            _ => String::new(),
        }
    }

    /// The policy ranked `k` (1 is the best), if one is.
    fn ranked(&self, k: usize) -> Option<(&'a String, &'a DecisionRow)> {
        (self.policies.iter().zip(self.rows)).find(|(_, r)| r.rank == Some(k))
    }

    fn status_quo(&self) -> Option<(&'a String, &'a DecisionRow)> {
        (self.policies.iter().zip(self.rows)).find(|(_, r)| r.status_quo)
    }

    /// "the status quo X", saying so when it is the work done by hand.
    fn status_quo_named(&self) -> Option<String> {
        self.status_quo().map(|(sq, q)| match q.by {
            Who::People => format!("the status quo {sq} (the work done by hand)"),
            _ => format!("the status quo {sq}"),
        })
    }
}

/// Whether an interval leaves 0 out.
fn separates(lo: f64, hi: f64) -> bool {
    !(lo <= 0.0 && hi >= 0.0)
}

/// ", which does not separate them" when the interval holds 0.
fn unless_separated(lo: f64, hi: f64) -> &'static str {
    if separates(lo, hi) {
        ""
    } else {
        ", which does not separate them"
    }
}

/// No policy meets every constraint: which fail and which are uncertain.
fn none_feasible(r: &Ranking) -> String {
    let why: Vec<String> = (r.policies.iter().zip(r.rows))
        .map(|(p, row)| {
            let what = if !row.duties_broken.is_empty() {
                "a duty broken"
            } else if row.feasible == "no" {
                "a constraint not met"
            } else {
                "a constraint uncertain"
            };
            format!("{p} ({what})")
        })
        .collect();
    format!(
        "No policy meets every constraint, judged with 95% intervals: {}. Relax a constraint, run more replications to settle the uncertain ones, or look for another policy.",
        why.join(", ")
    )
}

/// The best policy, its figure and interval, and its paired margin over the runner-up.
fn headline(r: &Ranking, best: &str, b: &DecisionRow) -> String {
    let (metric, unit) = (r.metric(), r.unit());
    let constrained = r.rows.iter().any(|row| !row.constraints.is_empty());
    let feasible = r.rows.iter().filter(|row| row.rank.is_some()).count();
    let mut s = format!(
        "Decision on {metric}: {best} is {} ({} {}",
        match (constrained, feasible) {
            (true, 1) => "the only policy that meets every constraint".to_string(),
            (true, n) => format!("best of the {n} policies that meet every constraint"),
            (false, n) => format!("best of the {n} policies"),
        },
        num(b.mean),
        if b.ci_low.is_finite() {
            format!("[{}, {}]{unit})", num(b.ci_low), num(b.ci_high))
        } else {
            format!("{unit})")
        }
    );
    if let Some((second, row)) = r.ranked(2) {
        // The runner-up's difference to the best, turned round: best − runner-up.
        s.push_str(&format!(
            "; against the runner-up{}: {}{unit} (paired 95% interval){}",
            match (row.status_quo, row.by) {
                (true, Who::People) => format!(", the status quo {second} (the work done by hand)"),
                (true, _) => format!(", the status quo {second}"),
                (false, _) => format!(" {second}"),
            },
            signed(-row.vs_best, -row.vs_best_high, -row.vs_best_low),
            unless_separated(row.vs_best_low, row.vs_best_high)
        ));
    }
    s.push('.');
    s
}

/// The best policy against the status quo, unless the headline said it already (the
/// runner-up is the status quo); when the best is the status quo, the best agent policy's
/// shortfall.
fn against_status_quo(r: &Ranking, b: &DecisionRow) -> Option<String> {
    let (_, q) = r.status_quo()?;
    let who = r.status_quo_named()?;
    let unit = r.unit();
    let by_hand = q.by == Who::People;
    if b.status_quo {
        let feasible = r.rows.iter().filter(|row| row.rank.is_some()).count();
        // The best agent policy that meets every constraint, and its shortfall.
        let agent = (1..=feasible)
            .filter_map(|k| r.ranked(k))
            .find(|(_, row)| row.by != Who::People && !row.status_quo);
        return Some(match (agent, by_hand) {
            (Some((a, row)), true) => format!(
                "No agent policy beats {who}: the best of them, {a}, is {}{unit} against it (paired 95% interval).",
                signed(row.vs_status_quo, row.vs_status_quo_low, row.vs_status_quo_high)
            ),
            (None, true) => format!("No agent policy meets every constraint, so none beats {who}."),
            (_, false) => format!("It is {who}: no other policy beats it."),
        });
    }
    if r.ranked(2).is_some_and(|(_, row)| row.status_quo) {
        return None;
    }
    Some(format!(
        "Against {who}: {}{unit} (paired 95% interval){}.",
        signed(b.vs_status_quo, b.vs_status_quo_low, b.vs_status_quo_high),
        unless_separated(b.vs_status_quo_low, b.vs_status_quo_high)
    ))
}

/// On net value: whether doing the work is worth it at all (0 is what not doing it earns).
fn worth_doing(r: &Ranking, best: &str, b: &DecisionRow, no_value: bool) -> Option<String> {
    if r.metric() != "net_value" {
        return None;
    }
    if no_value {
        return Some("The scenario gives its work no value (no class has a `value`), so net value here is a difference of costs: it cannot say whether running the agent is worth it, and a policy that does less work scores well on it.".to_string());
    }
    if b.ci_high < 0.0 {
        let by_hand = r.status_quo().is_some_and(|(_, q)| q.by == Who::People);
        return Some(format!(
            "Every policy loses money{}: not doing the work (net value 0) beats even {best}. As modelled, do not deploy.",
            if by_hand { ", the work done by hand included" } else { "" }
        ));
    }
    (b.ci_low <= 0.0).then(|| {
        format!(
            "Whether the work is worth doing at all is not settled: {best}'s net value could be below 0, what not doing the work earns."
        )
    })
}

/// The constraints whose interval straddles the bound, policy by policy.
fn unsettled(r: &Ranking) -> Option<String> {
    let unsettled: Vec<String> = (r.policies.iter().zip(r.rows))
        .flat_map(|(p, row)| {
            row.constraints
                .split("; ")
                .filter(|c| c.contains(": uncertain"))
                .map(move |c| format!("{p}: {}", c.split(": uncertain").next().unwrap_or(c)))
        })
        .collect();
    (!unsettled.is_empty()).then(|| {
        format!(
            "Uncertain (the interval straddles the bound; more replications would settle it): {}.",
            unsettled.join("; ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(rank: Option<usize>, mean: f64, vs_best: (f64, f64, f64)) -> DecisionRow {
        DecisionRow {
            by: Who::Agent,
            status_quo: false,
            bad_month: mean - 2.0,
            rank,
            feasible: if rank.is_some() { "yes" } else { "no" }.into(),
            metric: "net_value".into(),
            unit: "USD per 30d".into(),
            mean,
            ci_low: mean - 1.0,
            ci_high: mean + 1.0,
            vs_best: vs_best.0,
            vs_best_low: vs_best.1,
            vs_best_high: vs_best.2,
            vs_status_quo: 0.0,
            vs_status_quo_low: 0.0,
            vs_status_quo_high: 0.0,
            constraints: String::new(),
            duties_broken: String::new(),
        }
    }

    #[test]
    fn verdicts_name_the_best_or_say_why_not() {
        let names = ["a".to_string(), "b".to_string()];
        // Level: both score 0 in every replication.
        let level = [
            row(Some(1), 0.0, (0.0, 0.0, 0.0)),
            row(Some(2), 0.0, (0.0, 0.0, 0.0)),
        ];
        assert!(verdict(&names, &level, false)[0].starts_with("The policies are level on net_value"));
        // One feasible policy is the best, not "level".
        let mut one = [
            row(Some(1), 5.0, (0.0, 0.0, 0.0)),
            row(None, 9.0, (4.0, 3.0, 5.0)),
        ];
        one[0].constraints = "harm <= 1: met (0.5 [0.4 .. 0.6])".into();
        one[1].constraints = "harm <= 1: not met (2 [1.5 .. 2.5])".into();
        one[1].status_quo = true;
        one[1].vs_best = 4.0;
        one[0].vs_status_quo = -4.0;
        (one[0].vs_status_quo_low, one[0].vs_status_quo_high) = (-5.0, -3.0);
        let v = verdict(&names, &one, false);
        assert_eq!(
            v[0],
            "Decision on net_value: a is the only policy that meets every constraint (5.00 [4.00, 6.00] USD per 30d).",
            "{v:?}"
        );
        assert_eq!(
            v[1],
            "Against the status quo b: -4.00 [-5.00, -3.00] USD per 30d (paired 95% interval)."
        );
        assert_eq!(
            v[2],
            "a's net_value in a bad replication (the worst 1 in 20): 3.00 USD per 30d."
        );
        // The status quo done by hand is best: no agent policy beats it, and by how much.
        let mut hand = [
            row(Some(2), 4.0, (-1.0, -1.5, -0.5)),
            row(Some(1), 5.0, (0.0, 0.0, 0.0)),
        ];
        (hand[1].by, hand[1].status_quo) = (Who::People, true);
        (
            hand[0].vs_status_quo,
            hand[0].vs_status_quo_low,
            hand[0].vs_status_quo_high,
        ) = (-1.0, -1.5, -0.5);
        let v = verdict(&names, &hand, false);
        assert_eq!(
            v[1],
            "No agent policy beats the status quo b (the work done by hand): the best of them, a, is -1.00 [-1.50, -0.500] USD per 30d against it (paired 95% interval).",
            "{v:?}"
        );
        // The runner-up's margin, turned round, and a tie that the interval cannot separate.
        let two = [
            row(Some(2), 4.0, (-1.0, -3.0, 1.0)),
            row(Some(1), 5.0, (0.0, 0.0, 0.0)),
        ];
        let v = verdict(&names, &two, false);
        assert!(
            v[0].contains(
                "against the runner-up a: +1.00 [-1.00, +3.00] USD per 30d (paired 95% interval), which does not separate them"
            ),
            "{v:?}"
        );
        // Losing money on valued work: do not deploy.
        let losing = [
            row(Some(1), -5.0, (0.0, 0.0, 0.0)),
            row(Some(2), -9.0, (-4.0, -5.0, -3.0)),
        ];
        assert!(verdict(&names, &losing, false)
            .last()
            .unwrap()
            .ends_with("As modelled, do not deploy."));
        // Worth doing only perhaps: the best's interval reaches below 0.
        let perhaps = [
            row(Some(1), 0.5, (0.0, 0.0, 0.0)),
            row(Some(2), -9.0, (-9.5, -10.0, -9.0)),
        ];
        assert!(verdict(&names, &perhaps, false)
            .last()
            .unwrap()
            .starts_with("Whether the work is worth doing at all is not settled"));
    }
}
