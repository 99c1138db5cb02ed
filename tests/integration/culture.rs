//! Cultures (`[culture.NAME]`, a policy's `culture`) and escapes that come to light
//! (`workload.found_later`): each mechanism against a closed form or an exact identity, a
//! culture that states nothing changes nothing, and the crossed structure × culture
//! scenario from the command line.

use super::common::{assert_ci, kusd as k, run};
use oversim::metrics::{RepResult, M};

/// One class with plenty of root causes (a fix barely moves the defect rate, and two
/// findings seldom share a cause), a check and a review that both learn, and the same
/// structure under each culture given. `extra` is more TOML for `[workload]`.
fn world(extra: &str, cultures: &str, names: &[&str]) -> String {
    let mut s = format!(
        r#"name = "culture"
[run]
replications = 30
horizon = "40d"
warmup = "1d"
seed = 5
[workload]
rate = "30/h"
learning_floor = 0.0
{extra}
[[workload.class]]
name = "all"
share = 1.0
defect_prob = 0.2
root_causes = 1000000
{cultures}
"#
    );
    for n in names {
        let culture = if n.is_empty() {
            String::new()
        } else {
            format!("culture = \"{n}\"")
        };
        let name = if n.is_empty() { "none" } else { n };
        s.push_str(&format!(
            r#"
[[policy]]
name = "{name}"
{culture}
[[policy.stage]]
kind = "automated_check"
name = "check"
detect = 0.5
false_positive = 0.0
learn = 0.4
[[policy.stage]]
kind = "human_review"
name = "review"
reviewers = 8
service = {{ dist = "exponential", mean = "6m" }}
detect = 0.6
false_reject = 0.1
learn = 0.4
"#
        ));
    }
    s
}

fn stage(r: &RepResult, i: usize) -> &oversim::metrics::StageResult {
    &r.stages[i]
}

fn each(results: &oversim::montecarlo::Results, p: usize) -> impl Iterator<Item = &RepResult> {
    results.per_policy[p].iter()
}

#[test]
fn reporting_scales_the_investigations_and_fixes_from_each_source() {
    let cultures = r#"
[culture.open]
reporting = 1.0
investigation = "2h"
[culture.fearful]
reporting = 0.3
tool_reporting = 0.6
investigation = "2h"
"#;
    let (sc, res) = run(&world("", cultures, &["open", "fearful"]));
    let (check, review) = (0, 1);
    for (p, (r, tool_r)) in [(1.0, 1.0), (0.3, 0.6)].into_iter().enumerate() {
        let name = &sc.policies[p].name;
        // Each finding is reported with probability r (people's) or r_tool (the check's),
        // then investigated with probability learn = 0.4, and nearly every investigation
        // fixes a cause not fixed before: fixes per finding of each source = learn × r.
        let people: Vec<f64> = each(&res, p)
            .map(|x| x.metrics.get(M::fixes_people) / stage(x, review).caught)
            .collect();
        let tools: Vec<f64> = each(&res, p)
            .map(|x| x.metrics.get(M::fixes_tools) / stage(x, check).caught)
            .collect();
        assert_ci(&format!("{name}: people's fixes per finding"), &people, 0.4 * r);
        assert_ci(&format!("{name}: tools' fixes per finding"), &tools, 0.4 * tool_r);
        for x in each(&res, p) {
            let m = |k| x.metrics.get(k);
            // Every investigation costs its hours; a fix needs an investigation.
            assert_eq!(m(M::analysis_hours), 2.0 * m(M::root_cause_analyses), "{name}");
            let fixes = m(M::fixes_people) + m(M::fixes_tools) + m(M::fixes_escapes);
            assert!(fixes <= m(M::root_cause_analyses), "{name}");
            // With a million causes, nearly every investigation fixes a new one.
            assert!(fixes >= 0.99 * m(M::root_cause_analyses), "{name}: {fixes}");
            assert_eq!(
                m(M::fixes_escapes),
                0.0,
                "{name}: nothing comes to light by itself"
            );
            assert_eq!(m(M::blame_events), 0.0, "{name}: no culture of blame");
        }
    }
    // Under common random numbers a finding reported in the fearful culture is reported in
    // the open one too: fewer fixes in every replication, never more.
    for (a, b) in each(&res, 0).zip(each(&res, 1)) {
        assert!(b.metrics.get(M::root_cause_analyses) < a.metrics.get(M::root_cause_analyses));
    }
}

#[test]
fn defensive_and_slower_sign_off_raise_false_rejects_and_review_time() {
    // No defects: every rejection is a false one, at the review only (the check flags none).
    let cultures = r#"
[culture.defensive]
defensive = 0.5
slower = 0.25
"#;
    let text = world("", cultures, &["", "defensive"]).replace("defect_prob = 0.2", "defect_prob = 0.0");
    let (_, res) = run(&text);
    let review = 1;
    for (p, (fr, mean_h)) in [(0.1, 0.1), (0.15, 0.125)].into_iter().enumerate() {
        let rejected: Vec<f64> = each(&res, p)
            .map(|x| stage(x, review).flagged / stage(x, review).entered)
            .collect();
        assert_ci(&format!("policy {p}: false rejects per review"), &rejected, fr);
        // Mean service = busy hours / reviews (utilisation × on-duty hours, no analyses).
        let service: Vec<f64> = each(&res, p)
            .map(|x| {
                let reviews = stage(x, review).passed + stage(x, review).flagged;
                x.metrics.get(M::reviewer_utilization) * x.metrics.get(M::reviewer_hours) / reviews
            })
            .collect();
        assert_ci(&format!("policy {p}: hours per review"), &service, mean_h);
    }
}

#[test]
fn escapes_that_come_to_light_are_blamed_on_their_signer_or_investigated() {
    let cultures = r#"
[culture.blame]
escapes = "blame"
escape_learn = 0.5
[culture.just]
escapes = "learn"
escape_learn = 0.5
"#;
    let text = world("found_later = 0.3", cultures, &["", "blame", "just"]);
    let (sc, res) = run(&text);
    for p in 0..3 {
        let name = &sc.policies[p].name;
        // Each escape comes to light with probability 0.3, the same draw in every policy.
        let share: Vec<f64> = each(&res, p)
            .map(|x| x.metrics.get(M::found_later) / x.metrics.get(M::escaped))
            .collect();
        assert_ci(&format!("{name}: escapes that come to light"), &share, 0.3);
        for x in each(&res, p) {
            let m = |k| x.metrics.get(k);
            // Every escape went past the review, so a reviewer signed each one off.
            assert_eq!(m(M::escapes_signed_off), m(M::escaped), "{name}");
            match name.as_str() {
                // Under blame, each one that comes to light is its reviewer's; no root cause
                // is sought.
                "blame" => {
                    assert_eq!(m(M::blame_events), m(M::found_later), "{name}");
                    assert_eq!(m(M::fixes_escapes), 0.0, "{name}");
                    assert!(m(M::blame_max_person) >= m(M::blame_events) / 8.0, "{name}");
                    assert!(m(M::blame_max_person) <= m(M::blame_events), "{name}");
                }
                "none" => {
                    assert_eq!(m(M::blame_events), 0.0, "{name}");
                    assert_eq!(m(M::fixes_escapes), 0.0, "{name}: escape_learn is 0 by default");
                }
                _ => assert_eq!(m(M::blame_events), 0.0, "{name}"),
            }
        }
    }
    // A just culture investigates each escape that comes to light and fixes its root with
    // probability escape_learn.
    let fixed: Vec<f64> = each(&res, 2)
        .map(|x| x.metrics.get(M::fixes_escapes) / x.metrics.get(M::found_later))
        .collect();
    assert_ci("just: fixes per escape come to light", &fixed, 0.5);
}

#[test]
fn a_culture_that_states_nothing_and_escapes_nobody_learns_from_change_nothing() {
    let cultures = "[culture.as-before]\n";
    let (_, plain) = run(&world("", cultures, &["", "as-before"]));
    let (_, surfacing) = run(&world("found_later = 0.5", cultures, &["", "as-before"]));
    let other = |m: M| m != M::found_later;
    for res in [&plain, &surfacing] {
        for p in 0..2 {
            for (a, b) in each(&plain, 0).zip(each(res, p)) {
                for &m in M::ALL.iter().filter(|&&m| other(m)) {
                    let (x, y) = (a.metrics.get(m), b.metrics.get(m));
                    assert!(
                        x == y || x.is_nan() && y.is_nan(),
                        "policy {p}: {m:?} {x} against {y}"
                    );
                }
            }
        }
    }
    assert!(each(&surfacing, 1).all(|x| x.metrics.get(M::found_later) > 0.0));
}

/// The committed rows of `file` in results/examples/blame-or-learning/, each as a map from
/// column to text.
fn committed(file: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    super::common::committed_rows("blame-or-learning", file)
}

/// The crossed structure × culture table of lesson 10 (docs/teaching.md), from the committed
/// results: each policy's net value under each culture with its 95% interval, the paired
/// effect of the culture (the same replication meets the same world at both sweep points),
/// and what blame and learning did. The prose's claims are checked against the same numbers.
#[test]
fn lesson_10_reads_the_crossed_structure_and_culture_from_the_committed_results() {
    use oversim::stats::summarize_at;
    let reps = committed("replications.csv");
    let decision = committed("decision.csv");
    let policies = ["by-hand", "per-action", "tiered"];
    let cultures = ["just", "blame"];
    let col = |p: &str, c: &str, m: &str| -> Vec<f64> {
        let mut v: Vec<(u64, f64)> = (reps.iter())
            .filter(|r| r["policy"] == p && r["policy.*.culture"] == c)
            .map(|r| (r["replication"].parse().unwrap(), r[m].parse().unwrap()))
            .collect();
        v.sort_by_key(|x| x.0);
        assert_eq!(v.len(), 100, "{p} under {c}: replications");
        v.into_iter().map(|x| x.1).collect()
    };
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let ci = |v: &[f64], signed: bool| {
        let s = summarize_at(v.iter().copied(), 0.95);
        format!(
            "{} [{}, {}]",
            k(s.mean, signed),
            k(s.ci_low, signed),
            k(s.ci_high, signed)
        )
    };
    let mut want = String::from(
        "| policy | net value a month (USD), just culture | under blame | blame − just (paired) | blame events a month (most on one person) | root-cause fixes a month, just → blame |\n|---|---|---|---|---|---|\n",
    );
    let mut effect = std::collections::BTreeMap::new();
    for p in policies {
        let (j, b) = (col(p, "just", "net_value"), col(p, "blame", "net_value"));
        let diff: Vec<f64> = b.iter().zip(&j).map(|(b, j)| b - j).collect();
        effect.insert(p, summarize_at(diff.iter().copied(), 0.95));
        let fixes = |c| {
            let f = |m| col(p, c, m);
            mean(&f("fixes_people")) + mean(&f("fixes_tools")) + mean(&f("fixes_escapes"))
        };
        want += &format!(
            "| {p} | {} | {} | {} | {:.1} ({:.1}) | {:.1} → {:.1} |\n",
            ci(&j, false),
            ci(&b, false),
            ci(&diff, true),
            mean(&col(p, "blame", "blame_events")),
            mean(&col(p, "blame", "blame_max_person")),
            fixes("just"),
            fixes("blame"),
        );
    }
    // The structures' gap at each culture: decision.csv's paired interval against the best.
    let best = |c: &str| {
        let r = (decision.iter())
            .find(|r| r["policy.*.culture"] == c && r["rank"] == "1")
            .unwrap();
        r["policy"].clone()
    };
    want += "\n";
    for c in cultures {
        let r = (decision.iter())
            .find(|r| r["policy.*.culture"] == c && r["policy"] == "tiered")
            .unwrap();
        let f = |k: &str| r[k].parse::<f64>().unwrap();
        want += &format!(
            "Under {c}, tiered against the best ({}): {} [{}, {}] a month.\n",
            best(c),
            k(f("vs_best"), true),
            k(f("vs_best_low"), true),
            k(f("vs_best_high"), true)
        );
    }
    let Some(doc) = super::common::generated_block("docs/teaching.md", "culture:table", &want) else {
        return;
    };
    // What the prose says: the same policy wins under both cultures; the culture costs
    // each agent policy money, with an interval clear of zero, but less than the structures'
    // gap; blame falls hardest on one person under tiered.
    assert_eq!(best("just"), "per-action");
    assert_eq!(best("blame"), "per-action");
    for p in ["per-action", "tiered"] {
        assert!(effect[p].ci_high < 0.0, "{p}: the culture of blame costs it");
    }
    let gap = |c: &str| {
        let r = (decision.iter())
            .find(|r| r["policy.*.culture"] == c && r["policy"] == "tiered")
            .unwrap();
        -r["vs_best"].parse::<f64>().unwrap()
    };
    assert!(gap("just").min(gap("blame")) > -effect["per-action"].mean);
    let share = |p| mean(&col(p, "blame", "blame_max_person")) / mean(&col(p, "blame", "blame_events"));
    assert!(share("tiered") > share("per-action"));
    let plain = doc.split_whitespace().collect::<Vec<_>>().join(" ");
    for stated in [
        "Per-action review is best under both cultures",
        "The structure moves the verdict here; the culture moves the money",
        "(`tool_reporting = 1`: a check's log exposes nobody)",
    ] {
        assert!(plain.contains(stated), "docs/teaching.md should say `{stated}`");
    }
}

/// From the command line: the shipped crossed scenario with its culture of blame set, key by
/// key with `--set`, to what the just culture says gives the just culture's numbers at both
/// sweep points, replication by replication (the same world meets both), and a culture
/// named for every policy with `policy.*.culture` is the one every policy runs under.
#[test]
fn the_crossed_scenario_from_the_command_line() {
    let tmp = tempfile::TempDir::new().unwrap();
    let run = |out: &str, sets: &[&str]| {
        let dir = super::common::oversim_run(
            "scenarios/blame-or-learning.toml",
            10,
            &tmp.path().join(out),
            sets,
        );
        super::common::csv_rows(&dir.join("replications.csv"))
    };
    let same = run(
        "same",
        &[
            "culture.blame.reporting=1",
            "culture.blame.defensive=0",
            "culture.blame.slower=0",
            "culture.blame.escapes=learn",
        ],
    );
    let at = |rows: &[std::collections::BTreeMap<String, String>], c: &str| -> Vec<Vec<(String, String)>> {
        (rows.iter())
            .filter(|r| r["policy.*.culture"] == c)
            .map(|r| {
                r.iter()
                    .filter(|(k, _)| *k != "policy.*.culture")
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .collect()
    };
    assert_eq!(at(&same, "just").len(), 30);
    assert_eq!(
        at(&same, "just"),
        at(&same, "blame"),
        "the two cultures say the same"
    );
    // As shipped, blame falls on people and fewer causes are fixed, in the same world.
    let shipped = run("shipped", &[]);
    let total = |c: &str, m: &str| -> f64 {
        (shipped.iter())
            .filter(|r| r["policy.*.culture"] == c && r["policy"] == "per-action")
            .map(|r| r[m].parse::<f64>().unwrap())
            .sum()
    };
    assert_eq!(total("just", "blame_events"), 0.0);
    assert!(total("blame", "blame_events") > 0.0);
    assert!(total("blame", "root_cause_analyses") < total("just", "root_cause_analyses"));
    assert!(total("blame", "found_later") > 0.0);
}

/// Held lots: the inspector who inspected an escape signed it off and carries it under
/// blame (one inspector: all of it), an uninspected one is nobody's; inspectors work
/// slower by `slower`.
#[test]
fn a_lot_inspector_signs_off_what_they_inspect_and_carries_it() {
    let text = |culture: &str| {
        format!(
            r#"name = "lots"
[run]
replications = 30
horizon = "60d"
warmup = "1d"
seed = 9
[workload]
rate = "20/h"
found_later = 1.0
[[workload.class]]
name = "all"
share = 1.0
defect_prob = 0.1
[culture.c]
{culture}
[[policy]]
name = "lots"
culture = "c"
[[policy.stage]]
kind = "acceptance_sampling"
name = "lots"
lot = 20
n = 5
c = 4
reviewers = 1
service = {{ dist = "exponential", mean = "6m" }}
detect = 0.5
"#
        )
    };
    let (_, blame) = run(&text("escapes = \"blame\"\nslower = 0.5"));
    let (_, plain) = run(&text(""));
    for (b, p) in each(&blame, 0).zip(each(&plain, 0)) {
        let m = |x: &RepResult, k| x.metrics.get(k);
        // c = 4 all but never rejects a lot: the 5 sampled are inspected (signed off), the other
        // 15 go out unseen. Every escape comes to light (found_later = 1).
        assert!(m(b, M::escapes_signed_off) > 0.0 && m(b, M::escapes_signed_off) < m(b, M::escaped));
        assert_eq!(m(b, M::blame_events), m(b, M::escapes_signed_off));
        assert_eq!(m(b, M::blame_max_person), m(b, M::blame_events), "one inspector");
        assert_eq!(
            b.stages[0].blame_events,
            m(b, M::blame_events),
            "the lots stage's row"
        );
        assert_eq!(m(p, M::blame_events), 0.0);
        // The same attempts are inspected, slower: busy time grows by half.
        let busy = |x: &RepResult| x.stages[0].utilization;
        assert!(
            busy(b) > 1.3 * busy(p) && busy(b) < 1.7 * busy(p),
            "{} {}",
            busy(b),
            busy(p)
        );
    }
    let share: Vec<f64> = each(&blame, 0)
        .map(|x| x.metrics.get(M::escapes_signed_off) / x.metrics.get(M::escaped))
        .collect();
    // Of a lot's defects, the sampled ones escape only when missed (1 − 0.5): signed-off
    // share = 0.25·0.5 / (0.25·0.5 + 0.75) = 1/7.
    assert_ci("lots: escapes signed off", &share, 1.0 / 7.0);
}
