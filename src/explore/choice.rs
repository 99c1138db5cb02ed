//! The decision's choice across the uncertainty: at each draw of an exploration, the policy
//! that meets every `[decision]` constraint (judged on the draw's estimates: a few
//! replications are too few for an interval to settle it) and is best on the exploration's
//! metric among those that do; and how often each policy meets the constraints.

use super::analysis::{how_often, pct, share, Analysis};
use super::fold::Folded;
use super::Exploration;
use crate::metrics::M;

/// How often a policy is the decision's choice across the uncertainty: at each draw it meets
/// every `[decision]` constraint (judged on the draw's estimates) and is best on the
/// exploration's metric among the policies that do. `policy` is `None` for the draws where
/// no policy meets them.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub policy: Option<usize>,
    pub p_chosen: f64,
    pub p_chosen_low: f64,
    pub p_chosen_high: f64,
    /// How often the policy meets every constraint (for `None`: how often none does).
    pub p_feasible: f64,
    pub p_feasible_low: f64,
    pub p_feasible_high: f64,
}

/// The decision's choice at every draw under `[decision]`'s constraints ([`Choice`]).
pub(super) fn choices(ex: &Exploration, folded: &Folded, n_pol: usize) -> Vec<Choice> {
    let dir = ex.metric.direction().expect("a decision metric has a direction");
    let draws = ex.design.draws();
    let n = draws.len();
    let mut chosen = vec![0.0; n_pol + 1];
    let mut feasible = vec![0.0; n_pol + 1];
    for &s in &draws {
        let set = &folded.sets[s];
        let col: Vec<f64> = (0..n_pol).map(|p| set.mean(p, ex.metric)).collect();
        let ok: Vec<usize> = (0..n_pol).filter(|&p| set.meets(p) && !col[p].is_nan()).collect();
        for &p in &ok {
            feasible[p] += 1.0;
        }
        let Some(&first) = ok.first() else {
            chosen[n_pol] += 1.0;
            feasible[n_pol] += 1.0;
            continue;
        };
        let best = ok
            .iter()
            .fold(col[first], |b, &p| if dir.better(col[p], b) { col[p] } else { b });
        let tied: Vec<usize> = ok.iter().copied().filter(|&p| col[p] == best).collect();
        for &p in &tied {
            chosen[p] += 1.0 / tied.len() as f64;
        }
    }
    (0..=n_pol)
        .map(|p| {
            let (p_chosen, _, p_chosen_low, p_chosen_high) = share(chosen[p], n);
            let (p_feasible, _, p_feasible_low, p_feasible_high) = share(feasible[p], n);
            Choice {
                policy: (p < n_pol).then_some(p),
                p_chosen,
                p_chosen_low,
                p_chosen_high,
                p_feasible,
                p_feasible_low,
                p_feasible_high,
            }
        })
        .collect()
}

/// With `[decision]` constraints: how often each policy is the choice under them, and how
/// often it meets them (and how often none does).
pub(super) fn constrained(a: &Analysis, names: &[String], m: M) -> Option<String> {
    if a.constraints.is_empty() {
        return None;
    }
    let mut by: Vec<&Choice> = a.choices.iter().filter(|c| c.policy.is_some()).collect();
    by.sort_by(|x, y| y.p_chosen.total_cmp(&x.p_chosen));
    let top = by.first()?;
    let p = top.policy?;
    let meets: Vec<String> = (by.iter())
        .filter_map(|c| Some(format!("`{}` {}", names[c.policy?], pct(c.p_feasible))))
        .collect();
    let none = a.choices.iter().find(|c| c.policy.is_none())?;
    if top.p_chosen == 0.0 {
        return Some(format!(
            "Under the constraints ({}), no policy meets them in any of the {} draws: nothing can be chosen on {} until a constraint is relaxed or a policy changed.",
            a.constraints.join("; "),
            a.draws,
            m.name()
        ));
    }
    Some(format!(
        "Under the constraints ({}), `{}` is the choice on {} in {}; they are met by {}{}.",
        a.constraints.join("; "),
        names[p],
        m.name(),
        how_often(top.p_chosen, top.p_chosen_low, top.p_chosen_high, a.draws),
        meets.join(", "),
        match none.p_feasible {
            0.0 => String::new(),
            f => format!(", and by no policy in {}", pct(f)),
        }
    ))
}
