//! A review stage's calendar (`shifts`): groups of reviewers, each on duty by its own
//! pattern (every `period`, or on chosen weekdays), with its own head count or its share
//! of the stage's. Time 0 is Monday 00:00.

use serde::Deserialize;

use super::At;
use crate::input::{Ctx, Num, S};

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
pub(super) fn by_share(raw: &Option<S<RawShiftTable>>) -> bool {
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
pub(super) fn shift_patterns(
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

#[cfg(test)]
mod tests {
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
}
