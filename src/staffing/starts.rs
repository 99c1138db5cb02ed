//! Where the staffing searches start, and choices written back into a point's scenario.

use super::Staffed;
use crate::scenario::Loaded;

/// Where every point's searches start: the first point's choices, per policy, for the
/// rules at the same paths. Chunks of points solved apart from the same starts choose and
/// count exactly as one batch would: each search depends only on its start and its own
/// evaluations.
#[derive(Debug, Clone, PartialEq)]
pub struct Starts(pub(super) Vec<(usize, Vec<String>, Vec<i64>)>);

impl Starts {
    /// The choices `values` (step indices, one per rule in file order) of `point`.
    pub fn of(point: &Loaded, values: &[i64]) -> Starts {
        let mut v: Vec<(usize, Vec<String>, Vec<i64>)> = Vec::new();
        for (site, &x) in point.staffing.iter().zip(values) {
            match v.iter_mut().find(|(p, _, _)| *p == site.policy_index) {
                Some((_, paths, xs)) => {
                    paths.push(site.path.clone());
                    xs.push(x);
                }
                None => v.push((site.policy_index, vec![site.path.clone()], vec![x])),
            }
        }
        Starts(v)
    }

    /// The choices `rows` (as staffing.csv has them) of `point`.
    pub fn of_rows(point: &Loaded, rows: &[Staffed]) -> Starts {
        Starts::of(point, &indices(point, rows))
    }
}

/// The step indices of the choices `rows` at `point`.
fn indices(point: &Loaded, rows: &[Staffed]) -> Vec<i64> {
    (point.staffing.iter().zip(rows))
        .map(|(site, s)| (s.choice.chosen / site.rule.step).round() as i64)
        .collect()
}

/// The point's scenario with the choices `rows` written in.
pub fn written(point: &Loaded, rows: &[Staffed]) -> Result<Loaded, String> {
    point
        .with_staffing(&indices(point, rows))
        .map_err(|e| e.to_string())
}
