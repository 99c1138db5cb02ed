//! Detection as a scenario gives it: one probability, one per defect kind
//! (`detect = { syntax = 0.9, semantic = 0.1 }`), one per action class (`detect = {
//! routine = 0.7, high-impact = 0.6 }`), or, for people, each person's own drawn
//! once per replication from a beta distribution (`detect = { dist = "beta", mean = 0.7,
//! sd = 0.1 }`), for reviewers and auditors who differ.

use rand_distr::{Beta, Distribution};
use serde::de::{MapAccess, Visitor};
use serde::Deserialize;

use super::At;
use crate::input::{unknown, Ctx, Num, NumOrWord, S};
use crate::rng::{purpose, Keyed};

/// The probability of catching a defect: the same for every defect, by its kind, or by
/// the class of the action it is in.
#[derive(Debug, Clone, PartialEq)]
pub enum Detection {
    Same(f64),
    /// By defect kind index.
    ByKind(Vec<f64>),
    /// By action class index.
    ByClass(Vec<f64>),
}

impl Detection {
    /// The detection of a defect of kind `kind` in an action of class `class`.
    #[inline]
    pub fn of(&self, kind: usize, class: usize) -> f64 {
        match self {
            Detection::Same(d) => *d,
            Detection::ByKind(v) => v[kind],
            Detection::ByClass(v) => v[class],
        }
    }
}

/// Detection of a review's or an audit's people.
#[derive(Debug, Clone, PartialEq)]
pub enum Skill {
    /// Everyone detects alike.
    Fixed(Detection),
    /// Each person's detection is drawn from a beta distribution with this mean and sd.
    Beta { mean: f64, sd: f64 },
}

impl Skill {
    /// Each of `n` people's own detection, drawn for a beta from the stage's `keys` by
    /// person (so person 3 has the same skill whatever the head count); NaN for everyone
    /// when all detect alike (the value is then never read).
    pub fn draw(&self, n: usize, keys: Keyed) -> Vec<f64> {
        match *self {
            Skill::Fixed(_) => vec![f64::NAN; n],
            Skill::Beta { mean, sd } => {
                let k = mean * (1.0 - mean) / (sd * sd) - 1.0;
                let beta = Beta::new(mean * k, (1.0 - mean) * k).expect("checked when read");
                (0..n as u64)
                    .map(|k| beta.sample(&mut keys.draws(k, purpose::SKILL)))
                    .collect()
            }
        }
    }

    /// The fresh detection of a defect of kind `kind` in an action of class `class` by a
    /// person whose own detection (a beta draw) is `own`.
    #[inline]
    pub fn fresh(&self, own: f64, kind: usize, class: usize) -> f64 {
        match self {
            Skill::Fixed(d) => d.of(kind, class),
            Skill::Beta { .. } => own,
        }
    }
}

/// `detect` as written: a probability, or a table (by kind, or a distribution).
#[derive(Debug)]
pub enum RawDetect {
    Same(Num),
    Table(Vec<(String, S<NumOrWord>)>),
}

impl<'de> Deserialize<'de> for RawDetect {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawDetect;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a probability, or a table")
            }
            fn visit_i64<E>(self, v: i64) -> Result<RawDetect, E> {
                Ok(RawDetect::Same(Num(v as f64)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<RawDetect, E> {
                Ok(RawDetect::Same(Num(v as f64)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<RawDetect, E> {
                Ok(RawDetect::Same(Num(v)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawDetect, A::Error> {
                let mut entries = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, S<NumOrWord>>()? {
                    entries.push((k, v));
                }
                Ok(RawDetect::Table(entries))
            }
        }
        d.deserialize_any(V)
    }
}

const WHAT: &str = "a probability in [0, 1], or one per defect kind, e.g. { syntax = 0.9, semantic = 0.1 }, or one per action class, e.g. { routine = 0.7, high-impact = 0.6 }";

/// A check's `detect` (required): one probability or one per defect kind.
pub fn detection(ctx: &mut Ctx, at: &At, v: &Option<S<RawDetect>>) -> Detection {
    match read(ctx, at, v, false) {
        Skill::Fixed(d) => d,
        Skill::Beta { .. } => Detection::Same(0.0), // refused in `read`
    }
}

/// A review's or an audit's `detect` (required): as a check's, or a beta distribution of
/// each person's own.
pub fn skill(ctx: &mut Ctx, at: &At, v: &Option<S<RawDetect>>) -> Skill {
    read(ctx, at, v, true)
}

fn read(ctx: &mut Ctx, at: &At, v: &Option<S<RawDetect>>, people: bool) -> Skill {
    let Some(v) = v else {
        let what = if people {
            format!("{WHAT}, or {{ dist = \"beta\", mean = ..., sd = ... }}")
        } else {
            WHAT.to_string()
        };
        ctx.missing(at.span.clone(), at.path, "detect", &what);
        return Skill::Fixed(Detection::Same(0.0));
    };
    let path = at.key("detect");
    match v.get_ref() {
        RawDetect::Same(d) => Skill::Fixed(Detection::Same(ctx.prob(&S::new(v.span(), *d), &path))),
        RawDetect::Table(t) if t.iter().any(|(k, _)| k == "dist") => {
            if people {
                beta(ctx, &path, v.span(), t)
            } else {
                ctx.err(
                    v.span(),
                    &path,
                    "a check detects alike every time; a distribution of detection is for the people of a review or an audit",
                );
                Skill::Fixed(Detection::Same(0.0))
            }
        }
        RawDetect::Table(t) => Skill::Fixed(by_name(ctx, at, &path, v.span(), t)),
    }
}

/// What a detection table's names are.
#[derive(Clone, Copy, PartialEq)]
enum Names {
    Kinds,
    Classes,
}

/// `{ kind = probability, ... }` or `{ class = probability, ... }`: the first name says
/// which (a name that is both a kind and a class is refused), and every kind, or every
/// class, must be given.
fn by_name(
    ctx: &mut Ctx,
    at: &At,
    path: &str,
    span: std::ops::Range<usize>,
    t: &[(String, S<NumOrWord>)],
) -> Detection {
    let kinds: Vec<&str> = at.defect_kinds.iter().map(String::as_str).collect();
    let classes: Vec<&str> = at.classes.iter().map(|c| c.name.as_str()).collect();
    let first = t.first().map_or("", |(k, _)| k.as_str());
    let which = match (kinds.contains(&first), classes.contains(&first)) {
        (true, true) => {
            ctx.err(
                span,
                path,
                format!("`{first}` names both a defect kind and an action class; rename one of them so that the table says which it is by"),
            );
            return Detection::Same(0.0);
        }
        (false, true) => Names::Classes,
        (true, false) | (false, false) => Names::Kinds,
    };
    let (names, what): (&[&str], &str) = match which {
        Names::Kinds => (&kinds, "kind"),
        Names::Classes => (&classes, "class"),
    };
    let mut d = vec![f64::NAN; names.len()];
    for (k, v) in t {
        let kpath = format!("{path}.{k}");
        match (names.iter().position(|n| n == k), v.get_ref()) {
            (Some(i), NumOrWord::Num(x)) => d[i] = ctx.prob(&S::new(v.span(), Num(*x)), &kpath),
            (Some(_), NumOrWord::Word(w)) => ctx.err(
                v.span(),
                &kpath,
                format!("`{w}` is not a probability; allowed: a number in [0, 1]"),
            ),
            (None, _) if which == Names::Classes => {
                let head = format!("no action class named `{k}` (the table is by class: `{first}` is one)");
                ctx.err(v.span(), &kpath, unknown(head, k, names, Some("classes are")));
            }
            (None, _) => {
                let head = format!("no defect kind or action class named `{k}`");
                let hint = if names.len() == 1 {
                    "; declare kinds with [[workload.defect_kind]], name a class, or give one number"
                } else {
                    ""
                };
                let all: Vec<&str> = names.iter().chain(&classes).copied().collect();
                let msg = unknown(head, k, &all, Some("kinds and classes are")) + hint;
                ctx.err(v.span(), &kpath, msg);
            }
        }
    }
    let missing: Vec<&str> = (names.iter().zip(&d))
        .filter(|(_, x)| x.is_nan())
        .map(|(n, _)| *n)
        .collect();
    if !missing.is_empty() && t.iter().all(|(k, _)| names.contains(&k.as_str())) {
        ctx.err(
            span,
            path,
            format!(
                "gives no detection for {what} {}; give one for every {what}",
                missing.join(", ")
            ),
        );
    }
    let d = d.into_iter().map(|x| if x.is_nan() { 0.0 } else { x }).collect();
    match which {
        Names::Kinds => Detection::ByKind(d),
        Names::Classes => Detection::ByClass(d),
    }
}

/// `{ dist = "beta", mean = m, sd = s }`.
fn beta(ctx: &mut Ctx, path: &str, span: std::ops::Range<usize>, t: &[(String, S<NumOrWord>)]) -> Skill {
    let get = |key: &str| t.iter().find(|(k, _)| k == key).map(|(_, v)| v);
    for (k, v) in t {
        if !["dist", "mean", "sd"].contains(&k.as_str()) {
            ctx.err(
                v.span(),
                &format!("{path}.{k}"),
                format!("unknown key `{k}`; allowed keys: dist, mean, sd"),
            );
        }
    }
    let num = |ctx: &mut Ctx, key: &str| -> Option<(f64, std::ops::Range<usize>)> {
        match get(key).map(|v| (v.get_ref(), v.span())) {
            Some((NumOrWord::Num(x), sp)) => Some((*x, sp)),
            Some((NumOrWord::Word(w), sp)) => {
                ctx.err(sp, &format!("{path}.{key}"), format!("`{w}` is not a number"));
                None
            }
            None => None,
        }
    };
    if let Some(v) = get("dist") {
        match v.get_ref() {
            NumOrWord::Word(w) => {
                ctx.choice(
                    &S::new(v.span(), w.clone()),
                    &format!("{path}.dist"),
                    &[("beta", ())],
                );
            }
            NumOrWord::Num(_) => ctx.err(v.span(), &format!("{path}.dist"), "allowed: \"beta\""),
        }
    }
    let mean = match num(ctx, "mean") {
        Some((m, sp)) => ctx.range(
            &S::new(sp, Num(m)),
            &format!("{path}.mean"),
            1e-6,
            1.0 - 1e-6,
            "a mean detection strictly between 0 and 1",
        ),
        None => {
            if get("mean").is_none() {
                ctx.missing(span.clone(), path, "mean", "the mean detection, in (0, 1)");
            }
            0.5
        }
    };
    let limit = (mean * (1.0 - mean)).sqrt();
    let sd = match num(ctx, "sd") {
        Some((sd, sp)) if sd > 0.0 && sd < limit => {
            let _ = sp;
            sd
        }
        Some((sd, sp)) => {
            ctx.err(
                sp,
                &format!("{path}.sd"),
                format!("{sd} is out of range; allowed: a spread above 0 and below sqrt(mean·(1 − mean)) = {limit:.4}"),
            );
            limit / 2.0
        }
        None => {
            if get("sd").is_none() {
                ctx.missing(
                    span,
                    path,
                    "sd",
                    "the spread of detection between people, above 0",
                );
            }
            limit / 2.0
        }
    };
    Skill::Beta { mean, sd }
}
