//! How an organisation treats what goes wrong (`[culture.NAME]`, chosen by a policy's
//! `culture`): whether findings reach a root-cause investigation, whether people who sign
//! work off review defensively, and whether an escape that comes to light is charged to the
//! person who signed it off (blame) or investigated at its root (learning). A culture is
//! set per policy and is not tied to the structure, so a scenario can cross the two
//! (`[sweep] "policy.*.culture" = ["blame", "just"]`). See docs/model.md, "Culture".

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::input::{unknown, Ctx, Num, S};

/// What happens when an escape comes to light (by itself, or found by an audit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnEscape {
    /// It is investigated at its root: its cause is fixed with probability `escape_learn`
    /// (a finding of an audit follows the audit's `learn`).
    #[default]
    Learn,
    /// When a person signed it off, that person is held responsible (a blame event) and
    /// the investigation stops there: no root cause is sought. One nobody signed off is
    /// investigated as under `Learn`.
    Blame,
}

impl OnEscape {
    /// Every value with the word that selects it.
    pub const ALL: &'static [(&'static str, OnEscape)] =
        &[("learn", OnEscape::Learn), ("blame", OnEscape::Blame)];
}

/// A policy's culture. [`Culture::default`] is what a policy without one has: every
/// finding reported, no defensiveness, escapes investigated but never fixed, investigations
/// free (so a file without cultures gives the numbers it gave before cultures existed).
#[derive(Debug, Clone, PartialEq)]
pub struct Culture {
    /// The culture's name (`[culture.NAME]`), or `None` for a policy without one.
    pub name: Option<String>,
    /// The probability that a finding people make (a reviewer's rejection, an inspector's
    /// or auditor's finding) reaches a root-cause investigation, where the stage's `learn`
    /// applies.
    pub reporting: f64,
    /// The same for a finding a tool makes (a check, an LLM judge): tools log what they
    /// flag, but a person still has to take it up.
    pub tool_reporting: f64,
    /// The relative rise in the false-reject probability of people who sign work off (a
    /// review's `false_reject`, so ×(1 + defensive), at most 1).
    pub defensive: f64,
    /// The relative rise in the service time of people who sign work off (reviewers and lot
    /// inspectors: ×(1 + slower)).
    pub slower: f64,
    /// What an escape that comes to light leads to.
    pub escapes: OnEscape,
    /// The probability that an escape investigated at its root has its cause fixed.
    pub escape_learn: f64,
    /// People's hours per root-cause investigation (of a finding or an escape).
    pub investigation: f64,
}

impl Default for Culture {
    fn default() -> Culture {
        Culture {
            name: None,
            reporting: 1.0,
            tool_reporting: 1.0,
            defensive: 0.0,
            slower: 0.0,
            escapes: OnEscape::Learn,
            escape_learn: 0.0,
            investigation: 0.0,
        }
    }
}

impl Culture {
    /// The probability that a finding reaches a root-cause investigation, made by people
    /// or by a tool.
    #[inline]
    pub fn reporting_of(&self, by_people: bool) -> f64 {
        if by_people {
            self.reporting
        } else {
            self.tool_reporting
        }
    }
}

/// The largest relative rise `defensive` and `slower` take (a tenfold false-reject rate or
/// service time is far past anything the sources report).
pub const MAX_RISE: f64 = 10.0;

/// The cultures of a scenario (`[culture.NAME]`), as written.
pub type RawCultures = BTreeMap<String, S<RawCulture>>;

/// `[culture.NAME]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCulture {
    pub reporting: Option<S<Num>>,
    pub tool_reporting: Option<S<Num>>,
    pub defensive: Option<S<Num>>,
    pub slower: Option<S<Num>>,
    pub escapes: Option<S<String>>,
    pub escape_learn: Option<S<Num>>,
    pub investigation: Option<S<String>>,
}

/// Checks every `[culture.NAME]`; problems go to `ctx`.
pub fn parse(ctx: &mut Ctx, raw: Option<S<RawCultures>>) -> Vec<Culture> {
    let Some(raw) = raw else { return Vec::new() };
    let span = raw.span();
    let mut out = Vec::new();
    for (name, c) in raw.into_inner() {
        let path = format!("culture.{name}");
        if !crate::input::is_kebab(&name) {
            ctx.err(c.span(), &path, format!("`{name}` is not a valid name for a culture; allowed: lowercase letters, digits and `-`, starting with a letter or digit (e.g. `just`)"));
        }
        let c = c.into_inner();
        let rise = |ctx: &mut Ctx, v: &Option<S<Num>>, key: &str| {
            v.as_ref().map_or(0.0, |v| {
                ctx.range(
                    v,
                    &format!("{path}.{key}"),
                    0.0,
                    MAX_RISE,
                    "a relative rise in [0, 10] (0.2 is 20% more)",
                )
            })
        };
        let d = Culture::default();
        out.push(Culture {
            reporting: ctx.opt_prob(&c.reporting, &format!("{path}.reporting"), d.reporting),
            tool_reporting: ctx.opt_prob(
                &c.tool_reporting,
                &format!("{path}.tool_reporting"),
                d.tool_reporting,
            ),
            defensive: rise(ctx, &c.defensive, "defensive"),
            slower: rise(ctx, &c.slower, "slower"),
            escapes: (c.escapes.as_ref())
                .and_then(|v| ctx.choice(v, &format!("{path}.escapes"), OnEscape::ALL))
                .unwrap_or_default(),
            escape_learn: ctx.opt_prob(&c.escape_learn, &format!("{path}.escape_learn"), d.escape_learn),
            investigation: (c.investigation.as_ref())
                .map_or(0.0, |v| ctx.duration(v, &format!("{path}.investigation"), true)),
            name: Some(name),
        });
    }
    if out.is_empty() {
        ctx.err(
            span,
            "culture",
            "has no cultures; write one as [culture.NAME], e.g. [culture.just] with `reporting = 1`",
        );
    }
    out
}

/// The culture policy `pname` names (`culture = "just"`), or the default when it names none.
pub fn resolve(ctx: &mut Ctx, named: &Option<S<String>>, cultures: &[Culture], pname: &str) -> Culture {
    let Some(v) = named else { return Culture::default() };
    let name = v.get_ref().as_str();
    match cultures.iter().find(|c| c.name.as_deref() == Some(name)) {
        Some(c) => c.clone(),
        None => {
            let names: Vec<&str> = cultures.iter().filter_map(|c| c.name.as_deref()).collect();
            let head = format!("no culture named `{name}`");
            let msg = if names.is_empty() {
                format!("{head}; define it as a [culture.{name}] table")
            } else {
                unknown(head, name, &names, Some("the cultures are"))
            };
            ctx.err(v.span(), &format!("policy[{pname}].culture"), msg);
            Culture::default()
        }
    }
}
