//! `[decision]`: constraints judged with their intervals (met, not met, uncertain),
//! decision.csv's ranks and paired margins, and the verdict on the terminal.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use tempfile::TempDir;

fn run(dir: &Path, out: &str, args: &[&str]) -> String {
    run_r(dir, out, 10, args)
}

fn run_r(dir: &Path, out: &str, replications: u32, args: &[&str]) -> String {
    let o = Command::cargo_bin("oversim")
        .unwrap()
        .current_dir(dir)
        .args(["run", "-r", &replications.to_string(), "-o", out])
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

use super::common::csv_rows as rows;

/// Known answers, on the default scenario's per-action and tiered policies alone (so the
/// status quo is the baseline, per-action): per-action's reviewer hours are at least
/// 7 reviewers × 720 h = 5040 (not met under 3000), tiered's about 2160 (met); a bound at
/// per-action's own mean harm lies inside its interval (uncertain), and tiered's harm is far
/// below it.
#[test]
fn constraints_are_judged_with_their_intervals() {
    let t = TempDir::new().unwrap();
    // Seven per-action reviewers written in: at 10 replications the staffing rule may pick
    // another number (it judges the run's own replications).
    let seven = "policy.per-action.review.reviewers=7";
    run(
        t.path(),
        "first",
        &["-q", "--policies", "per-action,tiered", "--set", seven],
    );
    let summary = rows(&t.path().join("first/summary.csv"));
    let harm = |p: &str| -> f64 {
        let r = summary
            .iter()
            .find(|r| r["policy"] == p && r["metric"] == "harm")
            .unwrap();
        r["mean"].parse().unwrap()
    };
    let bound = harm("per-action");
    assert!(harm("tiered") < 0.7 * bound);
    let constraints = format!("decision.constraints=[\"reviewer_hours <= 3000\", \"harm <= {bound}\"]");
    let stdout = run(
        t.path(),
        "out",
        &[
            "--set",
            &constraints,
            "--policies",
            "per-action,tiered",
            "--set",
            seven,
        ],
    );
    let d = rows(&t.path().join("out/decision.csv"));
    let (pa, ti) = (&d[0], &d[1]);
    assert_eq!(
        (pa["policy"].as_str(), ti["policy"].as_str()),
        ("per-action", "tiered")
    );
    assert!(
        pa["constraints"].contains("reviewer_hours <= 3000: not met (50"),
        "{}",
        pa["constraints"]
    );
    assert!(
        pa["constraints"].contains(&format!("harm <= {bound}: uncertain")),
        "{}",
        pa["constraints"]
    );
    assert!(
        ti["constraints"].contains("reviewer_hours <= 3000: met (21"),
        "{}",
        ti["constraints"]
    );
    assert!(
        ti["constraints"].contains(&format!("harm <= {bound}: met")),
        "{}",
        ti["constraints"]
    );
    assert_eq!((pa["feasible"].as_str(), pa["rank"].as_str()), ("no", ""));
    assert_eq!((ti["feasible"].as_str(), ti["rank"].as_str()), ("yes", "1"));
    assert_eq!(ti["vs_best"], "0");
    // The margin over the status quo is the paired comparison of comparison.csv.
    let comparison = rows(&t.path().join("out/comparison.csv"));
    let c = comparison
        .iter()
        .find(|r| r["policy"] == "tiered" && r["metric"] == "net_value")
        .unwrap();
    assert_eq!(
        (
            &ti["vs_status_quo"],
            &ti["vs_status_quo_low"],
            &ti["vs_status_quo_high"]
        ),
        (&c["mean_diff"], &c["ci_low"], &c["ci_high"])
    );
    assert!(
        stdout.contains("Decision on net_value: tiered is the only policy that meets every constraint"),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("Uncertain (the interval straddles the bound; more replications would settle it): per-action: harm <= {bound}.")), "{stdout}");
    // Money carries its currency and period: the default scenario's costs are in USD over
    // its 30-day horizon.
    assert!(
        stdout.contains("Against the status quo per-action: +")
            && stdout.contains(" USD per 30d (paired 95% interval)."),
        "{stdout}"
    );
    assert_eq!(ti["unit"], "USD per 30d");
    // With no policy that meets them all, the verdict says so.
    let stdout = run(
        t.path(),
        "none",
        &[
            "--set",
            "decision.constraints=[\"reviewer_hours <= 100\"]",
            "--policies",
            "per-action,tiered",
        ],
    );
    assert!(stdout.contains("No policy meets every constraint, judged with 95% intervals: per-action (a constraint not met), tiered (a constraint not met)."), "{stdout}");
    assert!(rows(&t.path().join("none/decision.csv"))
        .iter()
        .all(|r| r["rank"].is_empty()));
    // A 95th percentile: twenty replications cannot bound it from above, so a bound above
    // every replication's harm is still uncertain, and one below all of them is not met.
    let stdout = run_r(
        t.path(),
        "tail",
        20,
        &[
            "--set",
            "decision.constraints=[\"harm_p95 <= 1e12\", \"harm_p95 <= 1\"]",
        ],
    );
    let d = rows(&t.path().join("tail/decision.csv"));
    assert!(
        d[0]["constraints"].contains("harm_p95 <= 1e12: uncertain")
            && d[0]["constraints"].contains("harm_p95 <= 1: not met"),
        "{stdout}"
    );
}

/// Where every policy loses money on work that has a value, the status quo done by hand
/// included, the verdict says not to deploy: the default scenario with harm priced ten
/// times higher (5000 USD a unit), so that even the work done by hand costs more than it is
/// worth.
#[test]
fn a_world_where_every_policy_loses_money_says_do_not_deploy() {
    let t = TempDir::new().unwrap();
    let stdout = run(t.path(), "out", &["--set", "costs.harm_unit=5000"]);
    let d = rows(&t.path().join("out/decision.csv"));
    assert!(
        d.iter().all(|r| r["ci_high"].parse::<f64>().unwrap() < 0.0),
        "this world loses money under every policy"
    );
    assert!(
        stdout.contains("Every policy loses money, the work done by hand included: not doing the work (net value 0) beats even"),
        "{stdout}"
    );
    assert!(stdout.contains("As modelled, do not deploy."), "{stdout}");
}

/// Every money figure the terminal prints has a unit: the verdict's figures carry the
/// currency and period, and the tables end with the units of their money and harm columns
/// (cost/release, value, net value, Δ cost/release, Δ net value), for every shipped scenario.
#[test]
fn every_money_figure_printed_has_a_unit() {
    let t = TempDir::new().unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = fs::read_to_string(&path).unwrap();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let stdout = run_r(t.path(), &name, 2, &[path.to_str().unwrap()]);
        let money = if text.contains("currency = \"USD\"") {
            "USD"
        } else {
            "money units"
        };
        let units = stdout
            .lines()
            .find(|l| l.starts_with("units: "))
            .unwrap_or_else(|| panic!("{name}: no units line\n{stdout}"));
        assert!(
            units.contains(&format!("cost/release in {money} per release")),
            "{name}: {units}"
        );
        assert!(
            units.contains(&format!("value and net value in {money} per ")),
            "{name}: {units}"
        );
        // Net value in the verdict: each figure is followed by the currency and period.
        if let Some(verdict) = stdout.lines().find(|l| l.starts_with("Decision on net_value")) {
            let figures = verdict.matches(&format!(" {money} per ")).count();
            assert!(figures >= 2, "{name}: {verdict}");
        }
    }
}

/// Four degenerate policies appended to a scenario: reject everything, release everything,
/// halt the agent for a day on nearly every finding, and drop what waits for one overloaded
/// reviewer. `rate` (actions per hour) sizes the overload: the reviewer's mean time is
/// 2/rate, an offered load of 2.
fn degenerate(rate: f64) -> String {
    format!(
        r#"
[[policy]]
name = "reject-everything"
[[policy.stage]]
kind = "automated_check"
name = "d-reject"
detect = 1.0
false_positive = 1.0
on_flag = "reject"

[[policy]]
name = "release-everything"

[[policy]]
name = "halt-on-every-finding"
[[policy.stage]]
kind = "automated_check"
name = "d-checks"
detect = 0.55
false_positive = 0.05
on_flag = "reject"
[[policy.stage]]
kind = "monitor"
name = "d-spc"
watch = ["d-checks"]
method = "cusum"
k = 0.01
h = 0.5
halt = "1d"

[[policy]]
name = "drop-on-timeout"
[[policy.stage]]
kind = "human_review"
name = "d-review"
reviewers = 1
service = {{ dist = "exponential", mean = "{}h" }}
detect = 0.6
max_wait = "1m"
on_timeout = "drop"
"#,
        2.0 / rate
    )
}

const DEGENERATE: [&str; 4] = [
    "reject-everything",
    "release-everything",
    "halt-on-every-finding",
    "drop-on-timeout",
];

/// In every shipped scenario, the degenerate policies rank below the best of the
/// scenario's own policies on its decision metric; where one does rank first, the verdict
/// on the scenario as shipped says that no policy is worth deploying.
#[test]
fn degenerate_policies_never_win() {
    let t = TempDir::new().unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<_> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let (mut report, mut failures) = (Vec::new(), Vec::new());
    for path in files {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let text = fs::read_to_string(&path).unwrap();
        let sc = oversim::scenario::load(&name, &text, &[]).unwrap().scenario;
        let file = t.path().join(format!("{name}.toml"));
        fs::write(&file, format!("{text}{}", degenerate(sc.workload.mean_rate()))).unwrap();
        let out = format!("{name}-out");
        let stdout = run_r(t.path(), &out, 30, &[file.to_str().unwrap(), "-q"]);
        let d = rows(&t.path().join(&out).join("decision.csv"));
        let first = d.iter().find(|r| r["rank"] == "1").map(|r| r["policy"].clone());
        report.push(format!("{name}: rank 1 = {first:?}"));
        if let Some(p) = first.filter(|p| DEGENERATE.contains(&p.as_str())) {
            let shipped = run_r(
                t.path(),
                &format!("{name}-shipped"),
                30,
                &[path.to_str().unwrap(), "-q"],
            );
            if !shipped.contains("As modelled, do not deploy.") {
                failures.push(format!("{name}: the degenerate policy {p} ranks first, but the verdict on the scenario as shipped does not say that no policy is worth deploying:\n{shipped}\nwith the degenerate policies:\n{stdout}"));
            }
        }
    }
    eprintln!("{}", report.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Every shipped scenario that decides on net value is a head-to-head: it has exactly one
/// policy done wholly by hand (the status quo), and every class of work has a value. Each
/// value follows the rule of docs/parameters.md ("The value of the work"): 1.25 × (the
/// status quo's cost per action other than harm + its harm cost per action of the class),
/// from the committed run (results/examples/), to two significant figures (within 5%).
#[test]
fn head_to_head_scenarios_have_a_status_quo_and_values_by_the_rule() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = fs::read_dir(root.join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut checked = 0;
    for path in files {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let sc = oversim::scenario::load(&name, &fs::read_to_string(&path).unwrap(), &[])
            .unwrap()
            .scenario;
        if sc.decision.metric != oversim::metrics::M::net_value {
            continue;
        }
        if !sc.sweep.is_empty() {
            // A crossed scenario (blame-or-learning) takes its world and values from a
            // head-to-head one, checked there; its results mix the sweep's points.
            continue;
        }
        let classes = sc.workload.classes.len();
        let by_hand: Vec<&str> = (sc.policies.iter())
            .filter(|p| p.work.all_by_hand(classes))
            .map(|p| p.name.as_str())
            .collect();
        let [status_quo] = by_hand[..] else {
            panic!("{name}: decides on net value, so it needs one by-hand status quo; it has {by_hand:?}")
        };
        let dir = root.join("results/examples").join(&name);
        let summary = rows(&dir.join("summary.csv"));
        let mean = |m: &str| -> f64 {
            summary
                .iter()
                .find(|r| r["policy"] == status_quo && r["metric"] == m)
                .unwrap()["mean"]
                .parse()
                .unwrap()
        };
        let (mut actions, mut harm) = (vec![0.0; classes], vec![0.0; classes]);
        let mut reps = std::collections::BTreeSet::new();
        for r in rows(&dir.join("classes.csv"))
            .iter()
            .filter(|r| r["policy"] == status_quo)
        {
            let c = sc
                .workload
                .classes
                .iter()
                .position(|c| c.name == r["class"])
                .unwrap();
            actions[c] += r["actions"].parse::<f64>().unwrap();
            harm[c] += r["harm"].parse::<f64>().unwrap();
            reps.insert(r["replication"].clone());
        }
        let per_action =
            (mean("cost_total") - mean("cost_harm")) / (actions.iter().sum::<f64>() / reps.len() as f64);
        for (c, class) in sc.workload.classes.iter().enumerate() {
            let rule = 1.25 * (per_action + harm[c] / actions[c] * sc.costs.harm_unit);
            assert!(
                (class.value - rule).abs() <= 0.05 * rule,
                "{name}: class {} has value {} but the rule gives {rule:.1}",
                class.name,
                class.value
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 7, "the seven head-to-head scenarios");
}
