//! Phase two of parsing: raw values to a checked [`Scenario`], collecting every error.

use std::collections::HashSet;
use std::str::FromStr as _;

use toml::de::{DeTable, DeValue};
use toml_edit::{DocumentMut, Item};

use super::raw::*;
use super::*;
use crate::input::{explain_serde_message, limits, unknown, Ctx, FromCli, LineIndex, Num, S};
use crate::production::Production;
use crate::stages::{self, At, KindTag};
use crate::workload::Workload;

/// Parses the whole text; returns every problem found.
pub fn parse(text: &str, from_cli: &FromCli) -> Result<Scenario, Vec<Diagnostic>> {
    let lines = LineIndex::new(text);
    let raw: RawScenario = match toml::de::Deserializer::parse(text)
        .map_err(|e| (e, String::new()))
        .and_then(|de| {
            serde_path_to_error::deserialize(de).map_err(|e| {
                let path = readable_path(text, e.path());
                (e.into_inner(), path)
            })
        }) {
        Ok(raw) => raw,
        Err((e, path)) => {
            let line = e.span().map(|s| lines.line(s.start));
            let message = explain_serde_message(e.message());
            return Err(vec![Diagnostic { line, path, message }]);
        }
    };
    // The document again, as values with positions: each stage's table is read by its kind.
    let doc = DeTable::parse(text).expect("parsed above");
    let mut ctx = Ctx::new(text, from_cli);
    let scenario = build(&mut ctx, raw, doc.get_ref());
    if ctx.errors.is_empty() {
        Ok(scenario)
    } else {
        let mut errors = ctx.errors;
        errors.sort_by_key(|d| d.line.unwrap_or(0));
        Err(errors)
    }
}

/// Turns serde's `policy[1].stage[0].detect` into `policy[process].stage[review].detect`
/// using the names in the document, so the path means something to the user.
fn readable_path(text: &str, path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let doc = DocumentMut::from_str(text).ok();
    let mut item: Option<&Item> = doc.as_ref().map(|d| d.as_item());
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Map { key } if key.starts_with("$__") => {}
            Segment::Map { key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
                item = item.and_then(|i| i.get(key.as_str()));
            }
            Segment::Seq { index } => {
                let entry = item.and_then(|i| match i {
                    Item::ArrayOfTables(a) => a.get(*index).map(|t| t as &dyn toml_edit::TableLike),
                    _ => None,
                });
                let name = entry.and_then(|t| {
                    t.get("name")
                        .and_then(Item::as_str)
                        .map(str::to_string)
                        .or_else(|| t.get("kind").and_then(Item::as_str).map(|k| k.replace('_', "-")))
                });
                match name {
                    Some(n) => out.push_str(&format!("[{n}]")),
                    None => out.push_str(&format!("[{index}]")),
                }
                item = item.and_then(|i| i.get(*index));
            }
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    out
}

fn build(ctx: &mut Ctx, raw: RawScenario, doc: &DeTable) -> Scenario {
    let name = ctx.name(&raw.name, "name");
    let description = raw.description.map(|d| d.into_inner()).unwrap_or_default();
    let chosen = raw.run.as_ref().and_then(|r| r.get_ref().policies.clone());
    let run = build_run(ctx, raw.run);
    let workload = Workload::parse(ctx, raw.workload);
    let costs = raw.costs.map_or(Costs::default(), |c| {
        let c = c.into_inner();
        let mut money = |v: &Option<S<Num>>, path| {
            v.as_ref()
                .map_or(0.0, |v| ctx.range(v, path, 0.0, 1e12, "a non-negative amount"))
        };
        Costs {
            reviewer_hour: money(&c.reviewer_hour, "costs.reviewer_hour"),
            halt_hour: money(&c.halt_hour, "costs.halt_hour"),
            harm_unit: money(&c.harm_unit, "costs.harm_unit"),
            delay_hour: money(&c.delay_hour, "costs.delay_hour"),
            currency: label(ctx, &c.currency, "costs.currency"),
            harm_name: label(ctx, &c.harm_name, "costs.harm_name"),
        }
    });
    let cultures = crate::culture::parse(ctx, raw.culture);
    if raw.policy.is_empty() {
        ctx.errors.push(Diagnostic {
            line: None,
            path: "policy".into(),
            message: "the scenario has no policies; add at least one [[policy]] table".into(),
        });
    }
    let mut seen = HashSet::new();
    let policies = raw
        .policy
        .into_iter()
        .enumerate()
        .map(|(k, p)| {
            let span = p.span();
            let p = p.into_inner();
            let culture = crate::culture::resolve(ctx, &p.culture, &cultures, p.name.get_ref());
            let pol = Policy {
                culture,
                ..build_policy(ctx, p, stage_tables(doc, k), &workload, &costs)
            };
            if !seen.insert(pol.name.clone()) {
                ctx.err(
                    span,
                    &format!("policy[{}].name", pol.name),
                    format!("policy name `{}` is used twice; names must be unique", pol.name),
                );
            }
            pol
        })
        .collect();
    let policies = match chosen {
        Some(names) => choose_policies(ctx, policies, names),
        None => policies,
    };
    let sweep = raw
        .sweep
        .map_or_else(Vec::new, |t| build_sweep(ctx, t, doc.get("sweep")));
    let uncertain = super::uncertain::build(ctx, doc.get("uncertain"));
    let mut decision = raw.decision.map_or_else(Default::default, |d| {
        build_decision(ctx, d.into_inner(), &policies)
    });
    decision
        .constraints
        .extend(crate::decision::Constraint::duties(&workload.classes));
    Scenario {
        name,
        description,
        run,
        workload,
        costs,
        policies,
        sweep,
        uncertain,
        decision,
    }
}

/// A short name shown after numbers (`USD`, `customer complaints`): 1 to 32 characters,
/// no control characters.
fn label(ctx: &mut Ctx, v: &Option<S<String>>, path: &str) -> String {
    let Some(v) = v else { return String::new() };
    let s = v.get_ref();
    let ok = (1..=32).contains(&s.chars().count()) && !s.chars().any(char::is_control);
    if !ok {
        ctx.err(v.span(), path, format!("{:?} is not a name for a unit; allowed: 1 to 32 characters without control characters, e.g. \"USD\" or \"customer complaints\"", crate::input::printable(s)));
    }
    s.trim().to_string()
}

/// `[decision]`: a metric with a better direction, and constraints in their grammar.
fn build_decision(
    ctx: &mut Ctx,
    raw: super::raw::RawDecision,
    policies: &[Policy],
) -> crate::decision::Decision {
    use crate::decision::{Constraint, Decision};
    use crate::metrics::{M, NAMES};
    let mut d = Decision::default();
    if let Some(sq) = &raw.status_quo {
        let names: Vec<&str> = policies.iter().map(|p| p.name.as_str()).collect();
        let name = sq.get_ref().as_str();
        if names.contains(&name) {
            d.status_quo = Some(name.to_string());
        } else {
            let head = format!("no policy named `{name}` runs");
            ctx.err(
                sq.span(),
                "decision.status_quo",
                unknown(head, name, &names, Some("the policies that run are")),
            );
        }
    }
    if let Some(m) = raw.metric {
        let name = m.get_ref().as_str();
        match M::ALL.iter().copied().find(|x| x.name() == name) {
            None => ctx.err(
                m.span(),
                "decision.metric",
                crate::input::unknown(format!("unknown metric `{name}`"), name, NAMES, Some("metrics are")),
            ),
            Some(x) if x.direction().is_none() => ctx.err(
                m.span(),
                "decision.metric",
                format!("`{name}` has no better direction (a count of work or a part of a cost), so it cannot decide; allowed: a metric where higher or lower is better, such as net_value, harm, escapes_per_1k or cost_total"),
            ),
            Some(x) => d.metric = x,
        }
    }
    for (i, c) in raw.constraints.unwrap_or_default().into_iter().enumerate() {
        match Constraint::parse(c.get_ref()) {
            Ok(x) => d.constraints.push(x),
            Err(e) => ctx.err(c.span(), &format!("decision.constraints[{i}]"), e),
        }
    }
    d
}

fn build_sweep(ctx: &mut Ctx, t: S<toml::Table>, doc: Option<&S<DeValue>>) -> Vec<SweepDim> {
    let table = t.span();
    // Each entry's own line, from the spanned document.
    let line_of = |key: &str| match doc.map(S::get_ref) {
        Some(DeValue::Table(entries)) => (entries.iter())
            .find(|(k, _)| k.get_ref() == key)
            .map_or(table.clone(), |(_, v)| v.span()),
        _ => table.clone(),
    };
    let mut dims = Vec::new();
    for (path, values) in t.into_inner() {
        let p = format!("sweep.\"{path}\"");
        match values {
            _ if super::is_free_text(&path) => ctx.err(line_of(&path), &p, super::FREE_TEXT_SWEEP),
            toml::Value::Array(a) if !a.is_empty() => dims.push(SweepDim {
                values: a.iter().map(SweepValue::from_toml).collect(),
                path,
                origin: "[sweep]",
            }),
            _ => ctx.err(line_of(&path), &p, "a sweep key takes a non-empty array of values, e.g. \"workload.rate\" = [\"20/h\", \"40/h\"]"),
        }
    }
    dims
}

/// `run.policies`: only the named policies run, in the listed order. Each policy's results
/// do not depend on which others run (its streams are keyed by replication and stage).
fn choose_policies(ctx: &mut Ctx, all: Vec<Policy>, names: S<Vec<String>>) -> Vec<Policy> {
    let span = names.span();
    let names = names.into_inner();
    let known: Vec<&str> = all.iter().map(|p| p.name.as_str()).collect();
    if names.is_empty() {
        ctx.err(
            span.clone(),
            "run.policies",
            format!("lists no policy; name one or more of: {}", known.join(", ")),
        );
    }
    let mut chosen = Vec::new();
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            ctx.err(
                span.clone(),
                "run.policies",
                format!("names `{name}` twice; name each policy once"),
            );
        } else if let Some(p) = all.iter().find(|p| p.name == *name) {
            chosen.push(p.clone());
        } else {
            let message = unknown(
                format!("no policy named `{name}`"),
                name,
                &known,
                Some("policy names are"),
            );
            ctx.err(span.clone(), "run.policies", message);
        }
    }
    chosen
}

fn build_run(ctx: &mut Ctx, run: Option<S<RawRun>>) -> RunConfig {
    let r = run.map(S::into_inner).unwrap_or_default();
    RunConfig {
        replications: r.replications.as_ref().map_or(100, |v| {
            ctx.int(v, "run.replications", 1, limits::MAX_REPLICATIONS) as u64
        }),
        horizon: r
            .horizon
            .as_ref()
            .map_or(720.0, |v| ctx.duration(v, "run.horizon", false)),
        warmup: r
            .warmup
            .as_ref()
            .map_or(0.0, |v| ctx.duration(v, "run.warmup", true)),
        seed: r
            .seed
            .as_ref()
            .map_or(0, |v| ctx.int(v, "run.seed", 0, i64::MAX) as u64),
        max_backlog: r.max_backlog.as_ref().map_or(limits::DEFAULT_MAX_BACKLOG, |v| {
            ctx.int(v, "run.max_backlog", 1, limits::MAX_BACKLOG) as u64
        }),
    }
}

/// The tables of policy `k`'s stages in the parsed document.
fn stage_tables<'d, 'i>(doc: &'d DeTable<'i>, k: usize) -> &'d [S<DeValue<'i>>] {
    let policy = match doc.get("policy").map(S::get_ref) {
        Some(DeValue::Array(a)) => a.get(k).map(S::get_ref),
        _ => None,
    };
    match policy {
        Some(DeValue::Table(t)) => match t.get("stage").map(S::get_ref) {
            Some(DeValue::Array(stages)) => stages,
            _ => &[],
        },
        _ => &[],
    }
}

fn build_policy(
    ctx: &mut Ctx,
    p: RawPolicy,
    tables: &[S<DeValue>],
    workload: &Workload,
    costs: &Costs,
) -> Policy {
    let pname = p.name.get_ref().clone();
    let name = ctx.name(&p.name, &format!("policy[{pname}].name"));
    if p.stage.len() > limits::MAX_STAGES {
        ctx.err(
            p.name.span(),
            &format!("policy[{pname}].stage"),
            format!(
                "has {} stages; at most {} are allowed",
                p.stage.len(),
                limits::MAX_STAGES
            ),
        );
    }
    // Names and kinds first, so references between stages resolve in any order.
    let kinds: Vec<Option<KindTag>> = p
        .stage
        .iter()
        .map(|s| {
            KindTag::ALL
                .iter()
                .find(|(n, _)| n == s.get_ref().kind.get_ref())
                .map(|(_, k)| *k)
        })
        .collect();
    let names: Vec<String> = p
        .stage
        .iter()
        .map(|s| {
            let s = s.get_ref();
            s.name
                .as_ref()
                .map(|n| n.get_ref().clone())
                .unwrap_or_else(|| s.kind.get_ref().replace('_', "-"))
        })
        .collect();
    let mut seen = HashSet::new();
    let mut stages = Vec::new();
    for (i, s) in p.stage.iter().enumerate() {
        let span = s.span();
        let r = s.get_ref();
        let sname = &names[i];
        let path = format!("policy[{pname}].stage[{sname}]");
        if let Some(n) = &r.name {
            ctx.name(n, &format!("{path}.name"));
        }
        if !seen.insert(sname.clone()) {
            let sp = r.name.as_ref().map_or(span.clone(), |n| n.span());
            ctx.err(
                sp,
                &format!("{path}.name"),
                format!(
                    "stage name `{sname}` is used twice in policy `{pname}`; give each stage a unique `name`"
                ),
            );
        }
        let Some(tag) = ctx.choice(&r.kind, &format!("{path}.kind"), KindTag::ALL) else {
            continue;
        };
        let at = At {
            path: &path,
            span,
            index: i,
            names: &names,
            kinds: &kinds,
            classes: &workload.classes,
            defect_kinds: &workload.kinds,
        };
        let table = tables.get(i).expect("a table for every stage read");
        stages.extend(stages::build(ctx, tag, table, &at));
    }
    let cost_per_day = p.cost_per_day.as_ref().map_or(0.0, |v| {
        ctx.range(
            v,
            &format!("policy[{pname}].cost_per_day"),
            0.0,
            1e12,
            "a non-negative amount of money per day",
        )
    });
    let work = p.work.as_ref().map_or_else(Default::default, |w| {
        let path = format!("policy[{pname}].work");
        Production::parse(ctx, w, &path, &workload.classes, costs.reviewer_hour)
    });
    Policy {
        name,
        description: p.description.map(|d| d.into_inner()).unwrap_or_default(),
        cost_per_day,
        work,
        culture: Default::default(),
        stages,
    }
}
