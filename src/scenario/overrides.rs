//! `--set PATH=VALUE`: edits the scenario's TOML document before it is parsed.
//!
//! Paths name tables by key and array entries by name: `run.replications`,
//! `workload.rate`, `workload.class.routine.share`, `costs.harm_unit`,
//! `policy.process.review.reviewers` (policy, then stage, then key; nested tables such as
//! `policy.process.review.fatigue.tau` go deeper; `policy.by-hand.work.people` is the
//! policy's `[policy.work]`). `policy.*.culture` sets a policy's own key in every policy;
//! `policy.*.review.detect` sets the key in
//! every policy that has a stage named `review`; `policy.tiered.*.learn` sets it in every
//! stage of `tiered` whose kind has the key (an organisation's learning, say). The edit keeps the file's layout, so line
//! numbers in later messages still point into the user's file.

use std::str::FromStr;

use toml_edit::{DocumentMut, Item, TableLike, Value};

pub use crate::input::FromCli;
use crate::input::{unknown, Diagnostic};

/// One `PATH=VALUE` change to a scenario: from `--set`, or a sweep point.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub path: String,
    pub value: String,
    /// Where it came from, for messages: `--set workload.rate=80/h`,
    /// `--sweep workload.rate=80/h`, `[sweep] workload.rate = "80/h"`.
    pub origin: String,
}

impl Override {
    /// An override as written with `--set`.
    pub fn set(path: &str, value: &str) -> Override {
        Override {
            path: path.into(),
            value: value.into(),
            origin: format!("--set {path}={value}"),
        }
    }

    /// `--policies A,B`: only those policies run, in that order (`run.policies`).
    pub fn policies(list: &str) -> Override {
        let names: Vec<String> = (list.split(','))
            .map(|n| Value::from(n.trim()).to_string())
            .collect();
        Override {
            path: "run.policies".into(),
            value: format!("[{}]", names.join(", ")),
            origin: format!("--policies {list}"),
        }
    }
}

impl FromStr for Override {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (path, value) = s
            .split_once('=')
            .ok_or_else(|| format!("`{s}` is not PATH=VALUE (for example run.replications=500)"))?;
        let path = path.trim();
        if path.is_empty() || path.split('.').any(str::is_empty) {
            return Err(format!("`{path}` is not a key path (for example workload.rate)"));
        }
        Ok(Override::set(path, value.trim()))
    }
}

/// Parses an override value: a TOML value if it is one (`4`, `0.5`, `true`, `"x"`,
/// `[1, 2]`, `{ dist = "constant", value = "1m" }`), otherwise a bare string (`80/h`).
fn parse_value(text: &str) -> Value {
    match Value::from_str(text) {
        Ok(v) => v.decorated(" ", ""),
        Err(_) => Value::from(text).decorated(" ", ""),
    }
}

/// Applies overrides in order; returns the edited text and which diagnostic paths came from
/// the command line.
pub fn apply(text: &str, overrides: &[Override]) -> Result<(String, FromCli), Vec<Diagnostic>> {
    let mut from_cli = FromCli::new();
    if overrides.is_empty() {
        return Ok((text.to_string(), from_cli));
    }
    // A syntax error is reported by the parser proper, with its line.
    let Ok(mut doc) = DocumentMut::from_str(text) else {
        return Ok((text.to_string(), from_cli));
    };
    let mut errors = Vec::new();
    for o in overrides {
        match set(&mut doc, o) {
            Ok(diag_path) => {
                from_cli.insert(diag_path, o.origin.clone());
            }
            Err(message) => errors.push(Diagnostic {
                line: None,
                path: o.origin.clone(),
                message,
            }),
        }
    }
    if errors.is_empty() {
        Ok((doc.to_string(), from_cli))
    } else {
        Err(errors)
    }
}

fn entry_name(t: &dyn TableLike, kind_default: bool) -> Option<String> {
    if let Some(n) = t.get("name").and_then(Item::as_str) {
        return Some(n.to_string());
    }
    if kind_default {
        return t.get("kind").and_then(Item::as_str).map(|k| k.replace('_', "-"));
    }
    None
}

/// Finds the entry named `name` in the array of tables `key` of `table`.
fn find_named<'a>(
    table: &'a mut dyn TableLike,
    key: &str,
    name: &str,
    what: &str,
    kind_default: bool,
) -> Result<&'a mut dyn TableLike, String> {
    let arr = table
        .get_mut(key)
        .and_then(Item::as_array_of_tables_mut)
        .ok_or_else(|| format!("the scenario has no {what} entries"))?;
    let names: Vec<String> = arr
        .iter()
        .map(|t| entry_name(t, kind_default).unwrap_or_default())
        .collect();
    match names.iter().position(|n| n == name) {
        Some(i) => Ok(arr.get_mut(i).expect("index from position") as &mut dyn TableLike),
        None => {
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let list = format!("{what} names are");
            Err(unknown(
                format!("no {what} named `{name}`"),
                name,
                &names,
                Some(&list),
            ))
        }
    }
}

/// The table a path's keys start in (a policy's, a stage's, a class's, or the document's),
/// the keys left, and the path as validation names it so far.
#[allow(clippy::type_complexity)]
fn locate<'d, 'p>(
    root: &'d mut dyn TableLike,
    parts: &'p [&'p str],
) -> Result<(&'d mut dyn TableLike, &'p [&'p str], String), String> {
    Ok(match parts {
        // `policy.NAME.work.KEY`: the policy's [policy.work] table (who does the work).
        ["policy", policy, "work", rest @ ..] if !rest.is_empty() => {
            let p = find_named(root, "policy", policy, "policy", false)?;
            (p, &parts[2..], format!("policy[{policy}]"))
        }
        ["policy", policy, stage, rest @ ..] if !rest.is_empty() => {
            let p = find_named(root, "policy", policy, "policy", false)?;
            let s = find_named(p, "stage", stage, "stage", true)?;
            (s, rest, format!("policy[{policy}].stage[{stage}]"))
        }
        ["policy", policy, key] => {
            let p = find_named(root, "policy", policy, "policy", false)?;
            (p, std::slice::from_ref(key), format!("policy[{policy}]"))
        }
        ["policy", ..] => {
            return Err(
                "policy paths are policy.NAME.KEY, policy.NAME.work.KEY or policy.NAME.STAGE.KEY".into(),
            )
        }
        ["workload", "class", class, rest @ ..] if !rest.is_empty() => {
            let w = root
                .get_mut("workload")
                .and_then(Item::as_table_like_mut)
                .ok_or("the scenario has no [workload] table")?;
            let c = find_named(w, "class", class, "class", false)?;
            (c, rest, format!("workload.class[{class}]"))
        }
        _ => (root, parts, String::new()),
    })
}

/// The names of `policy`'s stages whose kind has `key`; for a key inside it (`nested`, as
/// `fatigue.idle`), only the stages that have the table `key`.
fn stage_names_taking(policy: &dyn TableLike, key: &str, nested: bool) -> Vec<String> {
    let takes = |t: &toml_edit::Table| {
        (t.get("kind").and_then(Item::as_str))
            .and_then(|k| crate::stages::KindTag::ALL.iter().find(|(n, _)| *n == k))
            .is_some_and(|(_, tag)| tag.keys().contains(&key))
            && (!nested || t.contains_key(key))
    };
    (policy.get("stage").and_then(Item::as_array_of_tables))
        .map(|a| {
            a.iter()
                .filter(|t| takes(t))
                .filter_map(|t| entry_name(t, true))
                .collect()
        })
        .unwrap_or_default()
}

/// The message for a wildcard that reaches no stage.
fn no_stage_takes(whose: &str, key: &str, nested: bool) -> String {
    match nested {
        true => format!("no stage {whose} has a `{key}` table"),
        false => format!("no stage {whose} takes `{key}`"),
    }
}

/// Whether the policy named `policy` has a stage [`stage_names_taking`] takes.
fn stages_taking(doc: &mut DocumentMut, policy: &str, key: &str, nested: bool) -> bool {
    find_named(doc.as_table_mut(), "policy", policy, "policy", false)
        .is_ok_and(|p| !stage_names_taking(p, key, nested).is_empty())
}

fn set(doc: &mut DocumentMut, o: &Override) -> Result<String, String> {
    let parts: Vec<&str> = o.path.split('.').collect();
    // `policy.*.KEY`: a policy's own key (`culture`, `cost_per_day`) in every policy.
    if let ["policy", "*", key] = parts.as_slice() {
        let names: Vec<String> = (doc.get("policy").and_then(Item::as_array_of_tables))
            .map(|a| a.iter().filter_map(|p| entry_name(p, false)).collect())
            .unwrap_or_default();
        if names.is_empty() {
            return Err("the scenario has no [[policy]] tables".into());
        }
        let mut diag = String::new();
        for n in names {
            let one = Override {
                path: format!("policy.{n}.{key}"),
                ..o.clone()
            };
            diag = set(doc, &one)?;
        }
        return Ok(diag);
    }
    // `policy.*.*.KEY`: every stage of every policy whose kind has KEY (policies with none
    // are passed over).
    if let ["policy", "*", "*", key, rest @ ..] = parts.as_slice() {
        let names: Vec<String> = (doc.get("policy").and_then(Item::as_array_of_tables))
            .map(|a| a.iter().filter_map(|p| entry_name(p, false)).collect())
            .unwrap_or_default();
        let mut diag = None;
        for n in names {
            let one = Override {
                path: std::iter::once(format!("policy.{n}.*.{key}"))
                    .chain(rest.iter().map(|s| s.to_string()))
                    .collect::<Vec<_>>()
                    .join("."),
                ..o.clone()
            };
            if stages_taking(doc, &n, key, !rest.is_empty()) {
                diag = Some(set(doc, &one)?);
            }
        }
        return diag.ok_or_else(|| no_stage_takes("of any policy", key, !rest.is_empty()));
    }
    // `policy.*.STAGE.KEY`: the same value in every policy that has a stage named STAGE;
    // `policy.*.work.KEY`: in every policy whose [policy.work] has KEY.
    if let ["policy", "*", stage, rest @ ..] = parts.as_slice() {
        let has = |p: &toml_edit::Table| match *stage {
            "work" => (p.get("work").and_then(Item::as_table_like)).is_some_and(|w| w.contains_key(rest[0])),
            _ => (p.get("stage").and_then(Item::as_array_of_tables))
                .is_some_and(|st| st.iter().any(|t| entry_name(t, true).as_deref() == Some(stage))),
        };
        let names: Vec<String> = (doc.get("policy").and_then(Item::as_array_of_tables))
            .map(|a| {
                a.iter()
                    .filter(|p| has(p))
                    .filter_map(|p| entry_name(p, false))
                    .collect()
            })
            .unwrap_or_default();
        if names.is_empty() {
            return Err(match *stage {
                "work" => format!("no policy's [policy.work] has `{}`", rest[0]),
                _ => format!("no policy has a stage named `{stage}`"),
            });
        }
        let mut diag = String::new();
        for n in names {
            let one = Override {
                path: format!("policy.{n}.{stage}.{}", rest.join(".")),
                ..o.clone()
            };
            diag = set(doc, &one)?;
        }
        return Ok(diag);
    }
    // `policy.NAME.*.KEY`: every stage of policy NAME whose kind has KEY.
    if let ["policy", policy, "*", key, rest @ ..] = parts.as_slice() {
        let p = find_named(doc.as_table_mut(), "policy", policy, "policy", false)?;
        let names = stage_names_taking(p, key, !rest.is_empty());
        if names.is_empty() {
            return Err(no_stage_takes(
                &format!("of policy `{policy}`"),
                key,
                !rest.is_empty(),
            ));
        }
        let mut diag = String::new();
        for n in names {
            let path = std::iter::once(*key)
                .chain(rest.iter().copied())
                .collect::<Vec<_>>()
                .join(".");
            let one = Override {
                path: format!("policy.{policy}.{n}.{path}"),
                ..o.clone()
            };
            diag = set(doc, &one)?;
        }
        return Ok(diag);
    }
    let (table, rest, mut diag) = locate(doc.as_table_mut(), &parts)?;
    let mut table = table;
    for (i, key) in rest.iter().enumerate() {
        if !diag.is_empty() {
            diag.push('.');
        }
        diag.push_str(key);
        if i + 1 == rest.len() {
            table.insert(key, Item::Value(parse_value(&o.value)));
            break;
        }
        if table.get(key).is_none() {
            // Create a missing nested table, e.g. `run` in a file without `[run]`.
            let mut t = toml_edit::Table::new();
            t.set_implicit(true);
            table.insert(key, Item::Table(t));
        }
        table = table
            .get_mut(key)
            .and_then(Item::as_table_like_mut)
            .ok_or_else(|| format!("`{key}` is not a table, so it has no keys to set"))?;
    }
    Ok(diag)
}

/// The value at `path` as the scenario `text` writes it (a string without its quotes), if
/// it sets that key: what the browser lab's sliders start from.
pub fn get(text: &str, path: &str) -> Option<String> {
    let mut doc = DocumentMut::from_str(text).ok()?;
    let parts: Vec<&str> = path.split('.').collect();
    let (mut table, rest, _) = locate(doc.as_table_mut(), &parts).ok()?;
    let (last, keys) = rest.split_last()?;
    for key in keys {
        table = table.get_mut(key)?.as_table_like_mut()?;
    }
    let value = table.get(last)?.as_value()?;
    Some(match value.as_str() {
        Some(s) => s.to_string(),
        None => value.clone().decorated("", "").to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"name = "x"
[run]
seed = 1
[workload]
rate = "40/h"
[[workload.class]]
name = "routine"
share = 1.0
[[policy]]
name = "p"
[[policy.stage]]
kind = "human_review"
reviewers = 2
fatigue = { tau = "30m", floor = 0.8 }
"#;

    fn ov(s: &str) -> Override {
        s.parse().unwrap()
    }

    #[test]
    fn sets_values_by_name() {
        let (text, cli) = apply(
            DOC,
            &[
                ov("run.replications=500"),
                ov("workload.rate=80/h"),
                ov("workload.class.routine.share=0.5"),
                ov("policy.p.human-review.reviewers=4"),
                ov("policy.p.human-review.fatigue.tau=10m"),
            ],
        )
        .unwrap();
        assert!(text.contains("replications = 500"), "{text}");
        assert!(text.contains("rate = \"80/h\""), "{text}");
        assert!(text.contains("share = 0.5"), "{text}");
        assert!(text.contains("reviewers = 4"), "{text}");
        assert!(text.contains("tau = \"10m\""), "{text}");
        assert!(cli.contains_key("policy[p].stage[human-review].reviewers"));
        // Layout is kept: the stage's lines do not move.
        assert_eq!(text.lines().position(|l| l.contains("reviewers")), Some(12 + 1));
    }

    #[test]
    fn work_paths_set_the_policys_work_table() {
        let (text, cli) = apply(
            DOC,
            &[ov("policy.p.work.by=people"), ov("policy.p.work.people=3")],
        )
        .unwrap();
        let doc = DocumentMut::from_str(&text).unwrap();
        let work = &doc["policy"][0]["work"];
        assert_eq!(work["by"].as_str(), Some("people"));
        assert_eq!(work["people"].as_integer(), Some(3));
        assert!(cli.contains_key("policy[p].work.people"), "{cli:?}");
    }

    #[test]
    fn a_star_sets_every_policy_with_the_stage() {
        let two = format!(
            "{DOC}[[policy]]\nname = \"q\"\n[[policy.stage]]\nkind = \"human_review\"\nreviewers = 1\n"
        );
        let (text, _) = apply(&two, &[ov("policy.*.human-review.reviewers=7")]).unwrap();
        assert_eq!(text.matches("reviewers = 7").count(), 2, "{text}");
        let err = apply(DOC, &[ov("policy.*.nothing.reviewers=4")]).unwrap_err();
        assert!(
            err[0].message.contains("no policy has a stage named `nothing`"),
            "{err:?}"
        );
    }

    #[test]
    fn a_star_for_the_stage_sets_every_stage_of_the_policy_that_takes_the_key() {
        let two = format!(
            "{DOC}[[policy.stage]]\nkind = \"automated_check\"\nname = \"c\"\ndetect = 0.5\n[[policy.stage]]\nkind = \"monitor\"\nname = \"m\"\n"
        );
        let (text, _) = apply(&two, &[ov("policy.p.*.learn=0.1")]).unwrap();
        // The review and the check learn; the monitor has no `learn`.
        assert_eq!(text.matches("learn = 0.1").count(), 2, "{text}");
        let err = apply(DOC, &[ov("policy.p.*.false_positive=0.1")]).unwrap_err();
        assert!(
            err[0]
                .message
                .contains("no stage of policy `p` takes `false_positive`"),
            "{err:?}"
        );
    }

    /// `policy.*.*.KEY` reaches every stage of every policy whose kind has KEY; a key
    /// inside a table reaches only the stages that have the table.
    #[test]
    fn two_stars_set_every_stage_of_every_policy() {
        let two = format!(
            "{DOC}[[policy]]\nname = \"q\"\n[[policy.stage]]\nkind = \"human_review\"\nname = \"r\"\nreviewers = 1\n[[policy]]\nname = \"checks\"\n[[policy.stage]]\nkind = \"automated_check\"\ndetect = 0.5\n"
        );
        let (text, _) = apply(&two, &[ov("policy.*.*.reviewers=7")]).unwrap();
        assert_eq!(text.matches("reviewers = 7").count(), 2, "{text}");
        // Only policy p's review has a `fatigue` table.
        let (text, _) = apply(&two, &[ov("policy.*.*.fatigue.idle=watch")]).unwrap();
        assert_eq!(text.matches("idle = \"watch\"").count(), 1, "{text}");
        let err = apply(&two, &[ov("policy.*.*.prevalence.at=0.1")]).unwrap_err();
        assert!(
            err[0]
                .message
                .contains("no stage of any policy has a `prevalence` table"),
            "{err:?}"
        );
    }

    #[test]
    fn values_are_read_by_the_same_paths() {
        assert_eq!(get(DOC, "workload.rate").as_deref(), Some("40/h"));
        assert_eq!(get(DOC, "policy.p.human-review.reviewers").as_deref(), Some("2"));
        assert_eq!(
            get(DOC, "policy.p.human-review.fatigue.tau").as_deref(),
            Some("30m")
        );
        assert_eq!(get(DOC, "workload.class.routine.share").as_deref(), Some("1.0"));
        assert_eq!(get(DOC, "policy.p.human-review.detect"), None);
        assert_eq!(get(DOC, "policy.q.human-review.reviewers"), None);
    }

    #[test]
    fn bad_paths_are_named() {
        let err = apply(DOC, &[ov("policy.q.human-review.reviewers=4")]).unwrap_err();
        assert!(err[0].message.contains("no policy named `q`"), "{:?}", err);
        let err = apply(DOC, &[ov("policy.p.reviw.reviewers=4")]).unwrap_err();
        assert!(
            err[0].message.contains("stage names are: human-review"),
            "{:?}",
            err
        );
        assert!("novalue".parse::<Override>().is_err());
    }
}
