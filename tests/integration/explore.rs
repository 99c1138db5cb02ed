//! `oversim explore`: the sensitivity estimators on a real scenario (an input with no effect
//! gets a total index whose interval includes 0; an input that alone decides a difference
//! gets 1 − noise share), probabilities of being best that sum to 1, conservation and
//! Little's law on every run, and byte-identical files for any thread count and sharding.

use std::path::Path;

use assert_cmd::Command;
use oversim::experiment::{execute, Execution, Keep};
use oversim::explore::analysis::{analyse, Analysis, Outcome, Output};
use oversim::explore::design::DesignKind;
use oversim::explore::{self, Exploration, MapSpec, Others, Spec};
use oversim::metrics::M;
use tempfile::TempDir;

use crate::common::{check_invariants, generated_block};

/// Two policies that differ only in their reviewers' detection, which is uncertain for
/// `b`; a class without defects has an uncertain harm that can matter to nothing.
pub(crate) const TEXT: &str = r#"name = "explore-test"
[run]
replications = 8
horizon = "2d"
seed = 5
[workload]
rate = "30/h"
[[workload.class]]
name = "risky"
share = 0.5
defect_prob = 0.2
harm = 2.0
[[workload.class]]
name = "clean"
share = 0.5
defect_prob = 0.0
harm = 1.0
[[policy]]
name = "a"
[[policy.stage]]
kind = "human_review"
name = "review"
reviewers = 4
service = { dist = "exponential", mean = "3m" }
detect = 0.6
[[policy]]
name = "b"
[[policy.stage]]
kind = "human_review"
name = "review"
reviewers = 4
service = { dist = "exponential", mean = "3m" }
detect = 0.6
[uncertain]
"policy.b.review.detect" = { dist = "uniform", low = 0.2, high = 0.9 }
"workload.class.clean.harm" = { dist = "lognormal", mean = 10.0, sd = 5.0 }
"#;

fn spec(points: usize) -> Spec {
    Spec {
        design: DesignKind::Sobol,
        points,
        metric: "escaped".into(),
        bootstrap: 1000,
        map: None,
    }
}

fn run(ex: &Exploration) -> (oversim::experiment::RunData, Analysis) {
    let pool = crate::common::pool();
    let exec = Execution {
        plan: &ex.plan,
        baseline: 0,
        targets: &[],
        max_replications: ex.plan.base().run.replications,
        shard: None,
        series: None,
        kept: None,
        keep: Keep::All,
    };
    let out = execute(&exec, oversim::montecarlo::Workers::new(pool), &|_| {}).unwrap();
    for (s, pt) in out.run.points.iter().enumerate() {
        for (p, reps) in pt.results.per_policy.iter().enumerate() {
            for (i, r) in reps.iter().enumerate() {
                check_invariants(r, &format!("set {s} policy {p} replication {i}"));
            }
        }
    }
    let a = analyse(ex, &oversim::explore::fold::Folded::of(ex, &out.run));
    (out.run, a)
}

/// An exploration keeps of each replication only what its analysis reads: the metrics,
/// ledger and flags of a run that keeps everything, and no stage, class or kind rows.
#[test]
fn an_exploration_keeps_each_replications_metrics_and_nothing_else() {
    let ex = explore::plan("test.toml", TEXT, &[], &spec(2)).unwrap();
    let scenarios: Vec<&oversim::scenario::Scenario> =
        ex.plan.points.iter().map(|p| &p.loaded.scenario).collect();
    let reps: Vec<Vec<u64>> = scenarios.iter().map(|_| vec![0, 1, 2]).collect();
    let batch = |keep| {
        oversim::montecarlo::run_points(
            oversim::montecarlo::Workers::new(crate::common::pool()),
            &scenarios,
            &reps,
            None,
            keep,
            &|_, _, _| None,
            &|| {},
        )
        .results
    };
    let (all, kept) = (batch(Keep::All), batch(Keep::Metrics));
    let mut rows = 0;
    for (a, k) in all.iter().zip(&kept) {
        for (a, k) in a.per_policy.iter().flatten().zip(k.per_policy.iter().flatten()) {
            assert!(!a.stages.is_empty() && !a.classes.is_empty() && !a.kinds.is_empty());
            assert!(k.stages.is_empty() && k.classes.is_empty() && k.kinds.is_empty());
            // As text: an undefined metric is NaN, equal to itself only so.
            assert_eq!(
                format!("{:?}", (&a.metrics, &a.ledger, a.cut_short)),
                format!("{:?}", (&k.metrics, &k.ledger, k.cut_short))
            );
            rows += 1;
        }
    }
    assert_eq!(
        rows,
        ex.plan.points.len() * 3 * 2,
        "every set, replication and policy"
    );
}

#[test]
fn indices_on_a_real_scenario_no_effect_and_sole_cause() {
    const N: usize = 512;
    let ex = explore::plan("test.toml", TEXT, &[], &spec(N)).unwrap();
    assert_eq!(ex.plan.points.len(), N * 4);
    let (_, a) = run(&ex);
    let s = (a.sensitivity.iter())
        .find(|s| s.metric == M::escaped && s.output == Output::Difference(1))
        .expect("indices of b − a on escaped");
    let ix = &s.indices;
    // The harm of a class without defects: every set pair that differs only in it gives
    // identical runs (common random numbers), so its total index is 0 and its interval
    // includes 0.
    let (detect, harm) = (ix.total[0], ix.total[1]);
    assert!(harm.low <= 0.0 && 0.0 <= harm.high, "{harm:?}");
    assert!(
        ix.first[1].low <= 0.0 && 0.0 <= ix.first[1].high,
        "{:?}",
        ix.first[1]
    );
    // b's detection alone decides b − a: its total index is everything but the noise.
    let target = 1.0 - ix.noise.est;
    assert!(
        detect.low <= target && target <= detect.high,
        "{detect:?} vs 1 − noise = {target}"
    );
    // Resolution: the interval tells a sole cause (1 − noise) from an input that explains
    // half as much, as the closed-form checks resolve what they must tell apart.
    assert!(
        detect.high - detect.low <= target / 2.0,
        "interval too wide to tell a sole cause from half of one: {detect:?}"
    );
    // The noise is there, and known to be smaller than the input's share: the same
    // streams make a's runs cancel b's.
    assert!(
        ix.noise.est > 0.0 && ix.noise.high < detect.low,
        "{:?} vs {detect:?}",
        ix.noise
    );
    // Alone and additive, its first-order index agrees with its total.
    let f = ix.first[0];
    assert!(f.low <= target && target <= f.high, "{f:?}");
    // a's own escapes depend on no input: nothing to share out, so no indices.
    assert!(!(a.sensitivity.iter()).any(|s| s.metric == M::escaped && s.output == Output::Policy(0)));
}

#[test]
fn p_best_sums_to_one_and_pairs_are_complementary() {
    let ex = explore::plan("test.toml", TEXT, &[], &spec(16)).unwrap();
    let (_, a) = run(&ex);
    for &m in M::ALL.iter().filter(|m| m.direction().is_some()) {
        let st: Vec<_> = (a.standings.iter())
            .filter(|s| s.metric == Outcome::Mean(m))
            .collect();
        if st.is_empty() {
            continue;
        }
        let sum: f64 = st.iter().map(|s| s.p_best).sum();
        assert!((sum - 1.0).abs() < 1e-12, "{m:?}: p_best sums to {sum}");
        let ab = a.pairs.iter().find(|p| p.metric == m && p.policy == 0).unwrap();
        let ba = a.pairs.iter().find(|p| p.metric == m && p.policy == 1).unwrap();
        assert!((ab.p_beats + ba.p_beats - 1.0).abs() < 1e-12, "{m:?}");
    }
    // On escapes, b is best exactly where its reviewers detect more than a's 0.6, up to
    // noise: with its detection uniform on [0.2, 0.9], in 3/7 of the draws; the exact
    // bounds of the 16 draws hold it.
    let b = (a.standings.iter())
        .find(|s| s.metric == Outcome::Mean(M::escaped) && s.policy == 1)
        .unwrap();
    let share = 3.0 / 7.0;
    assert!(b.p_best_low <= share && share <= b.p_best_high, "{b:?}");
}

#[test]
fn the_choice_under_constraints_and_the_bad_month_are_exact_identities() {
    let with = |c: &str| {
        let ov = [oversim::scenario::Override::set("decision.constraints", c)];
        let ex = explore::plan("test.toml", TEXT, &ov, &spec(8)).unwrap();
        let (run, a) = run(&ex);
        (ex, run, a)
    };
    // A constraint every policy meets: the choice is the best on the metric, draw by draw.
    let (_, _, a) = with(r#"["escaped >= 0"]"#);
    for c in &a.choices {
        match c.policy {
            Some(p) => {
                let best = (a.standings.iter())
                    .find(|s| s.metric == Outcome::Mean(M::escaped) && s.policy == p)
                    .unwrap();
                assert_eq!(c.p_chosen, best.p_best, "{c:?}");
                assert_eq!(c.p_feasible, 1.0);
            }
            None => assert_eq!((c.p_chosen, c.p_feasible), (0.0, 0.0)),
        }
    }
    assert_eq!(a.constraints, ["escaped >= 0"]);
    // One no policy meets: nothing is chosen, in every draw.
    let (_, _, a) = with(r#"["escaped <= -1"]"#);
    for c in &a.choices {
        let expect = if c.policy.is_none() { 1.0 } else { 0.0 };
        assert_eq!((c.p_chosen, c.p_feasible), (expect, expect), "{c:?}");
        assert!(c.p_chosen_low <= c.p_chosen && c.p_chosen <= c.p_chosen_high);
    }
    // The bad month of harm: at each draw the 95th percentile over its replications; the
    // standing's mean over the draws is that, averaged.
    let (ex, run, a) = with("[]");
    assert!(a
        .choices
        .iter()
        .all(|c| c.policy.is_none() || c.p_feasible == 1.0));
    for p in 0..2 {
        let st = (a.standings.iter())
            .find(|s| s.metric == Outcome::BadMonth(M::harm) && s.policy == p)
            .expect("a harm_p95 standing per policy");
        let draws = ex.design.draws();
        let direct: f64 = (draws.iter())
            .map(|&s| {
                let v: Vec<f64> = (run.points[s].results.per_policy[p].iter())
                    .map(|r| r.metrics[M::harm])
                    .collect();
                oversim::stats::quantiles(v, [0.95])[0]
            })
            .sum::<f64>()
            / draws.len() as f64;
        assert!(
            (st.mean - direct).abs() <= 1e-9 * direct.abs().max(1.0),
            "{} vs {direct}",
            st.mean
        );
    }
    let sum: f64 = (a.standings.iter())
        .filter(|s| s.metric == Outcome::BadMonth(M::harm))
        .map(|s| s.p_best)
        .sum();
    assert!((sum - 1.0).abs() < 1e-12, "harm_p95 p_best sums to {sum}");
}

/// `oversim ARGS` run in `dir`.
pub(crate) fn oversim_output(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::cargo_bin("oversim")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn oversim(dir: &Path, args: &[&str]) {
    let out = oversim_output(dir, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The CSV files of `dir`, by name, with their bytes.
pub(crate) fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// A merge reads each shard's rows a set at a time, in the order oversim writes them: a
/// shard whose rows were reordered (and its shard.json's hash mended, so that the check of
/// the files passes) is refused, saying why.
#[test]
fn a_merge_refuses_rows_out_of_the_order_of_the_sets() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("s.toml"), TEXT).unwrap();
    for k in 0..2 {
        oversim(
            d,
            &[
                "explore",
                "s.toml",
                "-q",
                "-r",
                "4",
                "--points",
                "2",
                "-o",
                &format!("s{k}"),
                "--shard",
                &format!("{k}/2"),
            ],
        );
    }
    let path = d.join("s0/replications.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let (header, rows) = text.split_once('\n').unwrap();
    let mut rows: Vec<&str> = rows.lines().collect();
    rows.reverse();
    let reordered = format!("{header}\n{}\n", rows.join("\n"));
    std::fs::write(&path, &reordered).unwrap();
    let json_path = d.join("s0/shard.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    json["files"]["replications.csv"] = oversim::report::manifest::sha256_hex(reordered.as_bytes()).into();
    std::fs::write(&json_path, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    let out = Command::cargo_bin("oversim")
        .unwrap()
        .current_dir(d)
        .args(["merge", "s0", "s1", "-o", "merged", "-q"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("is in no shard") && err.contains("in the order oversim writes them"),
        "{err}"
    );
    assert!(!d.join("merged").exists());
}

#[test]
fn identical_for_any_thread_count_and_sharding() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("s.toml"), TEXT).unwrap();
    for extra in [
        &[][..],
        &[
            "--map",
            "policy.b.review.detect,workload.class.clean.harm",
            "--grid",
            "3",
            "--others",
            "integrate",
            "--points",
            "3",
        ][..],
    ] {
        let common = |out: &str| -> Vec<String> {
            let mut v: Vec<String> = [
                "explore", "s.toml", "-q", "-r", "4", "--metric", "escaped", "-o", out,
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            if extra.is_empty() {
                v.extend(["--points", "8"].iter().map(|s| s.to_string()));
            }
            v.extend(extra.iter().map(|s| s.to_string()));
            v
        };
        let args = |out: &str, more: &[&str]| -> Vec<String> {
            let mut v = common(out);
            v.extend(more.iter().map(|s| s.to_string()));
            v
        };
        let run = |a: Vec<String>| oversim(d, &a.iter().map(String::as_str).collect::<Vec<_>>());
        run(args("one", &["-j", "1", "--force"]));
        run(args("two", &["-j", "2", "--force"]));
        run(args("s0", &["--shard", "0/2", "--force"]));
        run(args("s1", &["--shard", "1/2", "--force"]));
        oversim(d, &["merge", "s1", "s0", "-o", "merged", "-q", "--force"]);
        let one = files(&d.join("one"));
        // design, explore, staffing, and robustness, choice, pairwise, sensitivity or map
        let want = if extra.is_empty() { 7 } else { 4 };
        assert_eq!(
            one.len(),
            want,
            "{:?}",
            one.iter().map(|f| &f.0).collect::<Vec<_>>()
        );
        assert_eq!(one, files(&d.join("two")), "threads change the files ({extra:?})");
        assert_eq!(
            one,
            files(&d.join("merged")),
            "sharding changes the files ({extra:?})"
        );
        // The report draws from the folder alone.
        oversim(d, &["report", "one"]);
        let html = std::fs::read_to_string(d.join("one/report.html")).unwrap();
        assert!(html.contains("<svg"), "no chart");
        if extra.is_empty() {
            assert!(html.contains("Probability of being best") && html.contains("What moves b − a"));
        } else {
            assert!(html.contains("Decision map"));
        }
    }
}

#[test]
fn a_map_marks_close_cells_and_names_a_winner_elsewhere() {
    let s = Spec {
        map: Some(MapSpec {
            paths: vec![
                "policy.b.review.detect".into(),
                "workload.class.clean.harm".into(),
            ],
            grid: 8,
            others: Others::Base,
        }),
        ..spec(1)
    };
    let ex = explore::plan("test.toml", TEXT, &[], &s).unwrap();
    let (run, _) = run(&ex);
    let layout = ex.map.as_ref().unwrap();
    let folded = oversim::explore::fold::Folded::of(&ex, &run);
    let cells = oversim::explore::map::cells(layout, &folded, M::escaped);
    assert_eq!(cells.len(), 64);
    // detect 0.2 (first row of cells): a (0.6) catches more, so b lets more escape.
    assert!(
        cells[..8].iter().all(|c| c.best == 0 && !c.close),
        "{:?}",
        &cells[..8]
    );
    // detect 0.9 (last row): b is best.
    assert!(
        cells[56..].iter().all(|c| c.best == 1 && !c.close),
        "{:?}",
        &cells[56..]
    );
    // detect 0.6: b is a, run on the same streams; the difference is exactly 0.
    assert_eq!(cells[32].values[0], "0.6");
    assert!(
        cells[32..40].iter().all(|c| c.close && c.difference == 0.0),
        "{:?}",
        &cells[32..40]
    );
}

/// The explorations docs/explore.md quotes: `scripts/explore-results.sh` runs these.
const RUNS: &[(&str, &[&str])] = &[
    (
        "default",
        &["explore", "scenarios/default.toml", "--points", "16", "-r", "5"],
    ),
    (
        "default-map",
        &[
            "explore",
            "scenarios/default.toml",
            "--map",
            "policy.*.review.detect,workload.class.high-impact.harm",
            "--grid",
            "7",
            "-r",
            "20",
        ],
    ),
    (
        "drifting-agent-map",
        &[
            "explore",
            "scenarios/drifting-agent.toml",
            "--policies",
            "process,per-action-spc",
            "--map",
            "policy.*.review.detect,policy.*.checks.detect",
            "--grid",
            "7",
            "-r",
            "10",
        ],
    ),
    (
        "drifting-agent-hybrid-map",
        &[
            "explore",
            "scenarios/drifting-agent.toml",
            "--policies",
            "process,per-action-spc,hybrid",
            "--map",
            "policy.*.review.detect,policy.*.checks.detect",
            "--grid",
            "7",
            "-r",
            "10",
        ],
    ),
];

/// The script that regenerates the committed explorations runs the test's command lines.
#[test]
fn the_exploration_script_runs_the_tests_command_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = std::fs::read_to_string(root.join("scripts/explore-results.sh")).unwrap();
    for (_, args) in RUNS {
        let line = format!(
            "\"$bin\" {} ",
            args.iter()
                .map(|a| if a.contains(',') {
                    format!("\"{a}\"")
                } else {
                    a.to_string()
                })
                .collect::<Vec<_>>()
                .join(" ")
        );
        assert!(
            script.contains(&line),
            "scripts/explore-results.sh should run: {line}"
        );
    }
}

/// The committed explorations are what the code produces, byte for byte: several minutes
/// on two cores, so in CI's own step (`.ci/run`).
#[test]
#[ignore = "slow: reruns four explorations; CI runs it (cargo test --release -- --ignored)"]
fn committed_explorations_match_the_code() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = TempDir::new().unwrap();
    for (name, args) in RUNS {
        let out = tmp.path().join(name);
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["-q", "-o", out.to_str().unwrap()]);
        oversim(root, &all);
        let fresh = files(&out);
        let committed = files(&root.join("results/explore").join(name));
        assert_eq!(
            fresh.iter().map(|f| &f.0).collect::<Vec<_>>(),
            committed.iter().map(|f| &f.0).collect::<Vec<_>>()
        );
        for ((f, new), (_, old)) in fresh.iter().zip(&committed) {
            assert!(
                new == old,
                "results/explore/{name}/{f} differs from the code's; run scripts/explore-results.sh"
            );
        }
    }
}

fn table_of_default(root: &Path) -> String {
    let dir = root.join("results/explore/default");
    let rows = |name: &str| -> Vec<std::collections::HashMap<String, String>> {
        let mut rd = csv::Reader::from_path(dir.join(name)).unwrap();
        let h = rd.headers().unwrap().clone();
        rd.records()
            .map(|r| {
                h.iter()
                    .zip(r.unwrap().iter())
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .collect()
            })
            .collect()
    };
    let f = |r: &std::collections::HashMap<String, String>, k: &str| -> f64 { r[k].parse().unwrap() };
    // Two decimals, and no "-0.00" for an estimate a hair below zero.
    let d2 = |x: f64| format!("{:.2}", if x.abs() < 0.005 { 0.0 } else { x });
    let mut out = String::from("| policy | P(best) on net value | mean net value | 5% of draws | 95% of draws |\n|---|---|---|---|---|\n");
    for r in rows("robustness.csv")
        .iter()
        .filter(|r| r["metric"] == "net_value")
    {
        out += &format!(
            "| {} | {:.2} ± {:.2} | {:.2}M | {:.2}M | {:.2}M |\n",
            r["policy"],
            f(r, "p_best"),
            f(r, "p_best_se"),
            f(r, "mean") / 1e6,
            f(r, "p05") / 1e6,
            f(r, "p95") / 1e6
        );
    }
    let mut sens: Vec<_> = rows("sensitivity.csv")
        .into_iter()
        .filter(|r| r["metric"] == "net_value" && r["output"] == "difference" && r["policy"] == "split")
        .collect();
    sens.sort_by(|a, b| f(b, "total_order").total_cmp(&f(a, "total_order")));
    out += &format!(
        "\nWhat moves split − by-hand (the best agent policy against the status quo) on net value (noise share {:.3}):\n\n| input | first order (95% CI) | total order (95% CI) |\n|---|---|---|\n",
        f(&sens[0], "noise_share")
    );
    for r in &sens {
        out += &format!(
            "| `{}` | {} ({} to {}) | {} ({} to {}) |\n",
            r["input"],
            d2(f(r, "first_order")),
            d2(f(r, "first_low")),
            d2(f(r, "first_high")),
            d2(f(r, "total_order")),
            d2(f(r, "total_low")),
            d2(f(r, "total_high"))
        );
    }
    out
}

/// docs/explore.md's table is the committed exploration's (`OVERSIM_BLESS=1` rewrites it).
#[test]
fn the_docs_quote_the_committed_exploration() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let want = table_of_default(root);
    let Some(doc) = generated_block("docs/explore.md", "explore:default", &want) else {
        return;
    };
    // The prose's claims: split best in every map cell (2 too close to call), an agent
    // policy run as a process best at every draw, never the status quo or per-action.
    let map = std::fs::read_to_string(root.join("results/explore/default-map/map.csv")).unwrap();
    let cells: Vec<&str> = map.lines().skip(1).collect();
    assert!(
        cells.iter().all(|l| l.contains(",split,")),
        "split best in every cell"
    );
    assert_eq!(
        cells.iter().filter(|l| l.contains(",too close to call,")).count(),
        0
    );
    assert!(doc.contains("split is best in every cell, and none of the 49 cells is too close to call"));
    assert!(want.contains("| by-hand | 0.00 ± 0.00 |") && want.contains("| per-action | 0.00 ± 0.00 |"));
    assert!(want.contains("| tiered | 0.59 ± 0.09 |") && want.contains("| split | 0.41 ± 0.09 |"));
    let rob = std::fs::read_to_string(root.join("results/explore/default/robustness.csv")).unwrap();
    assert!(rob.contains(",32\n"), "32 independent draws");
    assert!(
        rob.contains(
            "net_value,higher,tiered,0.59375,0.08682074519880027,0.4064492465764795,0.7630158994482604,"
        ),
        "tiered's share and its exact bounds"
    );
    assert!(doc.contains("tiered (the agent does everything) in\n59% of them and split (people keep the high-impact work) in 41%; the exact 95% interval on\ntiered's share is 41% to 76%"));
    let teaching = std::fs::read_to_string(root.join("docs/teaching.md")).unwrap();
    assert!(teaching
        .contains("In none of the 32 independent draws is the status quo or per-action review the best"));
    // The sets and inputs the prose counts are the committed design's.
    let design = std::fs::read_to_string(root.join("results/explore/default/design.csv")).unwrap();
    let sets = design.lines().count() - 1;
    let inputs = sets / 16 - 2; // Saltelli: N (k + 2) sets for k inputs, N = 16
    assert!(
        teaching.contains(&format!("{sets} parameter sets")),
        "{sets} sets"
    );
    assert!(
        teaching.contains(&format!("declares {inputs} of them")),
        "{inputs} inputs"
    );
    assert!(doc.contains(&format!("its {inputs} inputs with N = 16\n({sets} sets")));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(
        readme.contains("(tiered in 59% of them, split in 41%), never the status quo or per-action review")
    );
}

/// The drifting agent's map as docs/explore.md shows it: the best policy in each cell
/// (reviewer detection down, check detection across; "close" where the 95% interval of
/// the difference includes 0), and the count of each.
fn grid_of_drifting_agent_map(root: &Path) -> String {
    let text = std::fs::read_to_string(root.join("results/explore/drifting-agent-map/map.csv")).unwrap();
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    let (review, checks): (Vec<String>, Vec<String>) = {
        let mut r: Vec<String> = rows.iter().map(|x| x[0].to_string()).collect();
        let mut c: Vec<String> = rows.iter().map(|x| x[1].to_string()).collect();
        r.dedup();
        c.sort_by(|a, b| a.parse::<f64>().unwrap().total_cmp(&b.parse().unwrap()));
        c.dedup();
        (r, c)
    };
    let cell = |r: &str, c: &str| -> String {
        let x = rows.iter().find(|x| &x[0] == r && &x[1] == c).unwrap();
        if &x[11] == "best" {
            x[4].to_string()
        } else {
            "close".to_string()
        }
    };
    let round = |v: &str| format!("{:.2}", v.parse::<f64>().unwrap());
    let mut out = String::from("| reviewer detect ↓ · check detect → |");
    for c in &checks {
        out += &format!(" {} |", round(c));
    }
    out += "\n|---|";
    out += &"---|".repeat(checks.len());
    out += "\n";
    let mut count = std::collections::BTreeMap::new();
    for r in &review {
        out += &format!("| **{}** |", round(r));
        for c in &checks {
            let b = cell(r, c);
            *count.entry(b.clone()).or_insert(0) += 1;
            out += &format!(" {b} |");
        }
        out += "\n";
    }
    let best: Vec<String> = (count.iter())
        .filter(|(k, _)| k.as_str() != "close")
        .map(|(k, n)| format!("{k} in {n}"))
        .collect();
    out += &format!(
        "\nBest: {} of {} cells; {} too close to call.\n",
        best.join(", "),
        rows.len(),
        count.get("close").unwrap_or(&0)
    );
    out
}

/// docs/explore.md's map of where per-action review wins is the committed map's
/// (`OVERSIM_BLESS=1` rewrites it), and the prose's claims hold.
#[test]
fn the_docs_show_where_per_action_review_wins() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let want = grid_of_drifting_agent_map(root);
    let Some(doc) = generated_block("docs/explore.md", "explore:drifting-agent-map", &want) else {
        return;
    };
    // Good reviewers and weak checks: per-action review; weak reviewers or strong checks:
    // the process policy.
    let lines: Vec<&str> = want.lines().filter(|l| l.starts_with("| **")).collect();
    let cells = |l: &str| -> Vec<String> {
        l.split('|')
            .skip(2)
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect()
    };
    let (first, last) = (cells(lines[0]), cells(lines[lines.len() - 1]));
    assert!(
        first.iter().all(|c| c != "per-action-spc"),
        "weakest reviewers: {first:?}"
    );
    assert_eq!(last[0], "per-action-spc", "best reviewers, weakest checks");
    assert_eq!(
        last[last.len() - 1],
        "process",
        "best reviewers, strongest checks"
    );
    assert!(want.contains("per-action-spc in 17, process in 24 of 49 cells; 8 too close to call"));
    assert!(doc.contains("reviewers who catch 47% or more") && doc.contains("it is best in 17"));
    // With the hybrid in the map, the hybrid is best in every cell.
    let hybrid =
        std::fs::read_to_string(root.join("results/explore/drifting-agent-hybrid-map/map.csv")).unwrap();
    let rows: Vec<&str> = hybrid.lines().skip(1).collect();
    assert_eq!(rows.len(), 49);
    assert!(
        rows.iter()
            .all(|l| l.contains(",hybrid,") && l.contains(",best,")),
        "{hybrid}"
    );
    assert!(doc.contains("hybrid is best in all 49 cells, none too close to call"));
}

#[test]
fn a_latin_hypercube_gives_probabilities_but_no_indices() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("s.toml"), TEXT).unwrap();
    oversim(
        d,
        &[
            "explore", "s.toml", "--design", "lhs", "--points", "10", "-r", "3", "--metric", "escaped", "-q",
            "-o", "lhs",
        ],
    );
    let names: Vec<String> = files(&d.join("lhs")).into_iter().map(|f| f.0).collect();
    assert_eq!(
        names,
        [
            "choice.csv",
            "design.csv",
            "explore.csv",
            "pairwise.csv",
            "robustness.csv",
            "staffing.csv"
        ]
    );
    let design = std::fs::read_to_string(d.join("lhs/design.csv")).unwrap();
    assert_eq!(design.lines().filter(|l| l.contains(",LHS,")).count(), 10);
    let rob = std::fs::read_to_string(d.join("lhs/robustness.csv")).unwrap();
    assert!(rob.lines().skip(1).all(|l| l.ends_with(",10")), "{rob}");
}

/// The sizes the browser's requests may ask for are the command line's flags' ranges.
#[test]
fn exploration_sizes_are_checked_as_the_flags_are() {
    let mut s = spec(1);
    assert!(s.check_sizes().is_ok());
    s.points = 65_536;
    s.bootstrap = 100_000;
    assert!(s.check_sizes().is_ok());
    s.points = 0;
    let err = s.check_sizes().unwrap_err();
    assert!(err.contains("points must be 1 to 65536 (not 0)"), "{err}");
    s.points = 8;
    s.bootstrap = 99;
    assert!(s.check_sizes().is_err());
}

/// Reviewing every action against nothing: rejected actions are dropped, so the reviewers'
/// work removes harm λ·T·p·h·d from the month and costs c·T·reviewer_hour. On net value
/// (no work value, no delay cost) the two break even where the harm price is
/// c·reviewer_hour / (λ·p·h·d) = 2 · 50 / (20 · 0.1 · 1 · 0.5) = 100.
const REVIEW_OR_NOT: &str = r#"name = "review-or-not"
[run]
replications = 40
horizon = "7d"
seed = 4
[workload]
rate = "20/h"
[[workload.class]]
name = "a"
share = 1.0
defect_prob = 0.1
harm = 1.0
[costs]
reviewer_hour = 50.0
harm_unit = 10.0
delay_hour = 0.0
[[policy]]
name = "none"
[[policy]]
name = "review"
[[policy.stage]]
kind = "human_review"
name = "review"
reviewers = 2
service = { dist = "constant", value = "1m" }
detect = 0.5
[uncertain]
"costs.harm_unit" = { dist = "uniform", low = 0.0, high = 200.0 }
"policy.review.review.false_reject" = { dist = "uniform", low = 0.0, high = 0.0001 }
"#;

#[test]
fn a_break_even_matches_its_closed_form() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("r.toml"), REVIEW_OR_NOT).unwrap();
    oversim(
        d,
        &[
            "explore",
            "r.toml",
            "--points",
            "4",
            "-r",
            "40",
            "-q",
            "-o",
            "out",
            "--breakeven",
            "review,none",
            "--report",
        ],
    );
    let text = std::fs::read_to_string(d.join("out/breakeven.csv")).unwrap();
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let h = r.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let col =
        |rec: &csv::StringRecord, name: &str| rec[h.iter().position(|c| c == name).unwrap()].to_string();
    let harm = rows
        .iter()
        .find(|r| col(r, "input") == "costs.harm_unit")
        .unwrap();
    assert_eq!(col(harm, "finding"), "flips");
    assert_eq!(
        col(harm, "better_below"),
        "none",
        "cheap harm: reviewing costs more than it saves"
    );
    let (at, lo, hi): (f64, f64, f64) = (
        col(harm, "flips_at").parse().unwrap(),
        col(harm, "ci_low").parse().unwrap(),
        col(harm, "ci_high").parse().unwrap(),
    );
    // The closed form lies in the interval widened from 95% to 99.9% (as every closed-form
    // check here: z 3.29 for 1.96), and the interval is narrow enough to mean it. The
    // break-even runs the exploration's replications at each value (40 here; 5 by default,
    // which gives ±7.6 at 99.9%, too wide to tell 100 from 110).
    let widen = 3.2905 / 1.96;
    let (wlo, whi) = (at - (at - lo) * widen, at + (hi - at) * widen);
    assert!(
        wlo <= 100.0 && 100.0 <= whi,
        "flips at {at} ({lo} to {hi}; 99.9%: {wlo} to {whi})"
    );
    // The rule of every closed-form check (common::assert_ci): the 99.9% interval's
    // half-width is at most 5% of the closed form, so a model 10% off would fail.
    assert!(
        (whi - wlo) / 2.0 <= 0.05 * 100.0,
        "the 99.9% interval {wlo} to {whi} cannot tell the break-even from one 10% off"
    );
    // A tiny false-reject rate changes nothing here: no flip within its range.
    let fr = rows
        .iter()
        .find(|r| col(r, "input") != "costs.harm_unit")
        .unwrap();
    assert_eq!(col(fr, "finding"), "no flip within the range");
    // The sentence, and the report shows the break-evens.
    let html = std::fs::read_to_string(d.join("out/report.html")).unwrap();
    assert!(html.contains("Break-evens"), "the report has no break-evens");
    assert!(html.contains("while costs.harm_unit is below"), "no sentence");
    // The exploration re-read on another metric, without running: its sentences and a
    // report of their own, the folder's report.html untouched.
    let before = std::fs::read(d.join("out/report.html")).unwrap();
    let out = Command::cargo_bin("oversim")
        .unwrap()
        .current_dir(d)
        .args(["report", "out", "--metric", "harm"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("is best on harm (lower is better) in"), "{said}");
    let on_harm = std::fs::read_to_string(d.join("out/report-harm.html")).unwrap();
    assert!(
        on_harm.contains("Probability of being best on harm"),
        "the charts follow the metric"
    );
    assert_eq!(std::fs::read(d.join("out/report.html")).unwrap(), before);
    let out = Command::cargo_bin("oversim")
        .unwrap()
        .current_dir(d)
        .args(["report", "out", "--metric", "reviewer_hours"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no better direction"));
}

/// Every head-to-head shipped scenario's exploration varies what can flip its verdict: the
/// harm price, what waiting costs, the work's value, each policy's tooling and its own
/// learning from findings (not held equal), people's detection, and triage where there is
/// triage.
#[test]
fn head_to_head_explorations_vary_what_flips_the_verdict() {
    use oversim::stages::Role;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for name in [
        "default",
        "drifting-agent",
        "expert-review-wins",
        "catastrophic-tail",
        "realistic-layers",
        "governance-b12",
        "automation-bias",
    ] {
        let text = std::fs::read_to_string(root.join(format!("scenarios/{name}.toml"))).unwrap();
        let sc = oversim::scenario::load(name, &text, &[]).unwrap().scenario;
        let paths: Vec<&str> = sc.uncertain.iter().map(|u| u.path.as_str()).collect();
        let has = |p: &str| paths.contains(&p);
        for p in ["costs.harm_unit", "costs.delay_hour"] {
            assert!(has(p), "{name}: no {p}");
        }
        assert!(
            paths.iter().any(|p| p.ends_with(".value")),
            "{name}: no value of the work"
        );
        assert!(
            paths
                .iter()
                .any(|p| p.contains("review.detect") || p.contains("work.defect_prob")),
            "{name}: no people's detection or error"
        );
        let mut triage = false;
        for p in &sc.policies {
            if p.cost_per_day > 0.0 {
                assert!(
                    has(&format!("policy.{}.cost_per_day", p.name)),
                    "{name}: {}'s tooling",
                    p.name
                );
            }
            let learns = p.stages.iter().any(|s| match s.kind.role() {
                Role::Flag(_) | Role::Review(_) | Role::Audit(_) => true,
                Role::Triage(_) | Role::Monitor(_) | Role::Lots(_) => false,
            });
            if learns && !p.work.all_by_hand(sc.workload.classes.len()) {
                assert!(
                    has(&format!("policy.{}.*.learn", p.name)),
                    "{name}: {}'s learning",
                    p.name
                );
            }
            triage |= p.stages.iter().any(|s| matches!(s.kind.role(), Role::Triage(_)));
        }
        if triage {
            assert!(
                paths.iter().any(|p| p.contains("triage")),
                "{name}: no triage input"
            );
        }
    }
}
