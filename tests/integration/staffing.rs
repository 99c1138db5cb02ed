//! Staffing and monitor design by a stated rule, not by hand (docs/staffing.md). For every
//! shipped comparison, each human review stage has the fewest reviewers whose p95 wait
//! (mean over replications) is at most 15 minutes, each monitor the smallest `h` with
//! at most 2 false alarms per 30 days, and the people doing the work by hand are the fewest
//! whose utilization is at most 0.85. The scenario files state these rules
//! (`reviewers = { rule = "p95_wait", max = "15m" }`), and every run solves them
//! (staffing.csv). This test runs each sweep as `oversim run --sweep` does, with the
//! scenario's other rules at what the committed run chose, and checks that
//! - the committed sweep (`results/staffing/.../summary.csv`) is what the code produces;
//! - the table in docs/staffing.md is that summary;
//! - the scenario file states the sweep's rule, and the committed run
//!   (`results/examples/<scenario>/staffing.csv`) chose the value the sweep picks.
//!
//! The reruns are slow, so `cargo test` checks the tables and the scenarios against the
//! committed summaries, and CI's own step (`cargo test --release -- --ignored`) reruns the
//! sweeps. After an intended change, `OVERSIM_BLESS=1 cargo test --release staffing --
//! --include-ignored` rewrites the committed summaries and the tables; check the diff, then
//! fix any scenario the rule now disagrees with.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use oversim::units::parse_duration;
use tempfile::TempDir;

/// The rule a sweep applies.
#[derive(Clone, Copy, Debug)]
enum Rule {
    /// The fewest reviewers whose mean p95 wait is at most `WAIT_MIN` minutes.
    Wait,
    /// The smallest `h` with at most `ALARMS_PER_30D` false alarms per 30 days.
    FalseAlarms,
    /// The fewest lot inspectors whose mean p95 latency is at most `LATENCY_MIN` minutes.
    Latency,
    /// The fewest people doing the work by hand whose mean utilization is at most
    /// `UTILIZATION`.
    Utilization,
}

const WAIT_MIN: f64 = 15.0;
const ALARMS_PER_30D: f64 = 2.0;
const LATENCY_MIN: f64 = 24.0 * 60.0;
const UTILIZATION: f64 = 0.85;

struct Sweep {
    scenario: &'static str,
    policy: &'static str,
    stage: &'static str,
    key: &'static str,
    values: &'static [&'static str],
    rule: Rule,
}

/// People doing the work by hand in `policy` of `scenario`, over `values`.
const fn people(scenario: &'static str, policy: &'static str, values: &'static [&'static str]) -> Sweep {
    Sweep {
        scenario,
        policy,
        stage: "work",
        key: "people",
        values,
        rule: Rule::Utilization,
    }
}

const SWEEPS: &[Sweep] = &[
    people("default", "by-hand", &["15", "16", "17", "18"]),
    people("default", "split", &["1", "2", "3"]),
    people("drifting-agent", "by-hand", &["15", "16", "17", "18"]),
    people("expert-review-wins", "by-hand", &["8", "9", "10", "11"]),
    people("realistic-layers", "by-hand", &["15", "16", "17", "18"]),
    people("governance-b12", "by-hand", &["196", "197", "198"]),
    people("automation-bias", "by-hand", &["15", "16", "17", "18"]),
    Sweep {
        scenario: "default",
        policy: "per-action",
        stage: "review",
        key: "reviewers",
        values: &["4", "5", "6", "7", "8"],
        rule: Rule::Wait,
    },
    Sweep {
        scenario: "default",
        policy: "tiered",
        stage: "review",
        key: "reviewers",
        values: &["1", "2", "3"],
        rule: Rule::Wait,
    },
    Sweep {
        scenario: "default",
        policy: "per-action",
        stage: "spc",
        key: "h",
        values: &["6", "7", "8", "9"],
        rule: Rule::FalseAlarms,
    },
    Sweep {
        scenario: "default",
        policy: "tiered",
        stage: "spc",
        key: "h",
        values: &["6", "7", "8", "9"],
        rule: Rule::FalseAlarms,
    },
    Sweep {
        scenario: "drifting-agent",
        policy: "per-action",
        stage: "review",
        key: "reviewers",
        values: &["5", "6", "7"],
        rule: Rule::Wait,
    },
    Sweep {
        scenario: "drifting-agent",
        policy: "per-action-spc",
        stage: "review",
        key: "reviewers",
        values: &["5", "6", "7"],
        rule: Rule::Wait,
    },
    Sweep {
        scenario: "drifting-agent",
        policy: "hybrid",
        stage: "review",
        key: "reviewers",
        values: &["1", "2", "3"],
        rule: Rule::Wait,
    },
    Sweep {
        scenario: "drifting-agent",
        policy: "process",
        stage: "spc",
        key: "h",
        values: &["6", "7", "8", "9"],
        rule: Rule::FalseAlarms,
    },
    Sweep {
        scenario: "drifting-agent",
        policy: "hybrid",
        stage: "spc",
        key: "h",
        values: &["6", "7", "8", "9"],
        rule: Rule::FalseAlarms,
    },
    Sweep {
        scenario: "drifting-agent",
        policy: "per-action-spc",
        stage: "spc",
        key: "h",
        values: &["6", "7", "8", "9"],
        rule: Rule::FalseAlarms,
    },
    Sweep {
        scenario: "expert-review-wins",
        policy: "per-action",
        stage: "review",
        key: "reviewers",
        values: &["2", "3", "4", "5"],
        rule: Rule::Wait,
    },
    Sweep {
        scenario: "expert-review-wins",
        policy: "tiered",
        stage: "review",
        key: "reviewers",
        values: &["1", "2", "3"],
        rule: Rule::Wait,
    },
    Sweep {
        scenario: "expert-review-wins",
        policy: "per-action",
        stage: "spc",
        key: "h",
        values: &["4", "5", "6", "7"],
        rule: Rule::FalseAlarms,
    },
    Sweep {
        scenario: "expert-review-wins",
        policy: "tiered",
        stage: "spc",
        key: "h",
        values: &["4", "5", "6", "7"],
        rule: Rule::FalseAlarms,
    },
    Sweep {
        scenario: "realistic-layers",
        policy: "per-action",
        stage: "review",
        key: "reviewers",
        values: &["5", "6", "7"],
        rule: Rule::Wait,
    },
    Sweep {
        scenario: "realistic-layers",
        policy: "tiered-ideal",
        stage: "review",
        key: "reviewers",
        values: &["1", "2", "3"],
        rule: Rule::Wait,
    },
    Sweep {
        scenario: "realistic-layers",
        policy: "tiered-realistic",
        stage: "review",
        key: "reviewers",
        values: &["1", "2", "3"],
        rule: Rule::Wait,
    },
    Sweep {
        scenario: "realistic-layers",
        policy: "production-line",
        stage: "review",
        key: "reviewers",
        values: &["1", "2", "3"],
        rule: Rule::Wait,
    },
    Sweep {
        scenario: "realistic-layers",
        policy: "production-line",
        stage: "lots",
        key: "reviewers",
        values: &["1", "2", "3", "4"],
        rule: Rule::Latency,
    },
    Sweep {
        scenario: "realistic-layers",
        policy: "per-action-checks",
        stage: "review",
        key: "reviewers",
        values: &["5", "6", "7"],
        rule: Rule::Wait,
    },
];

/// The columns of a sweep's table: (header, metric, statistic).
const COLUMNS: &[(&str, &str, &str)] = &[
    ("p95 wait (min)", "p95_wait_min", "mean"),
    ("p95 latency (min)", "latency_p95_min", "mean"),
    ("utilization", "reviewer_utilization", "mean"),
    ("work utilization", "work_utilization", "mean"),
    ("false alarms", "false_alarms", "mean"),
    ("drift h", "drift_hours", "mean"),
    ("harm", "harm", "mean"),
    ("harm p95", "harm", "p95"),
    ("net value", "net_value", "mean"),
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

impl Sweep {
    fn path(&self) -> String {
        format!("policy.{}.{}.{}", self.policy, self.stage, self.key)
    }

    fn id(&self) -> String {
        format!("{} {}.{}.{}", self.scenario, self.policy, self.stage, self.key)
    }

    fn committed(&self) -> PathBuf {
        root().join("results/staffing").join(format!(
            "{}--{}.{}.{}.csv",
            self.scenario, self.policy, self.stage, self.key
        ))
    }

    /// The committed run's staffing.csv rows: (`policy.P.STAGE.KEY`, chosen).
    fn chosen_in_run(&self) -> Vec<(String, String)> {
        let file = root()
            .join("results/examples")
            .join(self.scenario)
            .join("staffing.csv");
        let text = fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let mut r = csv::Reader::from_reader(text.as_bytes());
        r.deserialize::<(String, String, String, String)>()
            .map(|row| {
                let (policy, stage, key, chosen) = row.unwrap();
                (format!("policy.{policy}.{stage}.{key}"), chosen)
            })
            .collect()
    }

    /// The sweep's summary.csv, as `oversim run --sweep` writes it, the scenario's other
    /// rules at the values the committed run chose.
    fn run(&self, tmp: &Path) -> String {
        let out = tmp.join(self.id().replace(' ', "_"));
        let mut cmd = Command::cargo_bin("oversim").unwrap();
        cmd.arg("run")
            .arg(root().join("scenarios").join(format!("{}.toml", self.scenario)));
        for (path, chosen) in self.chosen_in_run() {
            if path != self.path() {
                cmd.arg("--set").arg(format!("{path}={chosen}"));
            }
        }
        cmd.arg("--sweep")
            .arg(format!("{}={}", self.path(), self.values.join(",")))
            .args(["--quiet", "-o"])
            .arg(&out)
            .assert()
            .success();
        fs::read_to_string(out.join("summary.csv")).unwrap()
    }

    /// The value the scenario file gives the key: a number, or the value its rule chose
    /// in the committed run (the rule must be the sweep's).
    fn in_scenario(&self) -> f64 {
        let file = root().join("scenarios").join(format!("{}.toml", self.scenario));
        let doc: toml::Table = fs::read_to_string(file).unwrap().parse().unwrap();
        let policy = doc["policy"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"].as_str() == Some(self.policy))
            .unwrap_or_else(|| panic!("{}: no policy", self.id()));
        let stage = match self.stage {
            "work" => &policy["work"],
            _ => policy["stage"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s.get("name").and_then(|n| n.as_str()) == Some(self.stage))
                .unwrap_or_else(|| panic!("{}: no stage", self.id())),
        };
        let v = &stage[self.key];
        if let Some(rule) = v.as_table() {
            let (name, max) = match self.rule {
                Rule::Wait => ("p95_wait", toml::Value::from("15m")),
                Rule::FalseAlarms => ("false_alarms", toml::Value::from(ALARMS_PER_30D as i64)),
                Rule::Latency => ("p95_latency", toml::Value::from("24h")),
                Rule::Utilization => ("utilization", toml::Value::from(UTILIZATION)),
            };
            assert_eq!(
                rule["rule"].as_str(),
                Some(name),
                "{}: the file's rule",
                self.id()
            );
            assert_eq!(rule["max"], max, "{}: the file's bound", self.id());
            let (_, chosen) = (self.chosen_in_run().into_iter())
                .find(|(p, _)| *p == self.path())
                .unwrap_or_else(|| panic!("{}: not in the committed staffing.csv", self.id()));
            return chosen.parse().unwrap();
        }
        v.as_float().or_else(|| v.as_integer().map(|i| i as f64)).unwrap()
    }

    fn horizon_days(&self) -> f64 {
        let file = root().join("scenarios").join(format!("{}.toml", self.scenario));
        let doc: toml::Table = fs::read_to_string(file).unwrap().parse().unwrap();
        parse_duration(doc["run"]["horizon"].as_str().unwrap()).unwrap() / 24.0
    }
}

/// One row of summary.csv, by column name.
struct Row {
    point: String,
    policy: String,
    metric: String,
    mean: f64,
    p95: f64,
}

fn rows(summary: &str) -> Vec<Row> {
    let mut r = csv::Reader::from_reader(summary.as_bytes());
    let h = r.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    let (policy, metric, mean, p95) = (col("policy"), col("metric"), col("mean"), col("p95"));
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            let num = |i: usize| rec[i].parse::<f64>().unwrap_or(f64::NAN);
            Row {
                point: rec[0].to_string(),
                policy: rec[policy].to_string(),
                metric: rec[metric].to_string(),
                mean: num(mean),
                p95: num(p95),
            }
        })
        .collect()
}

/// Three significant digits, or whole units for numbers of 1000 and more (thousands grouped
/// above 9999).
fn fmt(x: f64) -> String {
    if x.is_nan() {
        return "–".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let digits = (2 - x.abs().log10().floor() as i32).max(0) as usize;
    let rounded = format!("{x:.digits$}");
    let (int, frac) = rounded
        .split_once('.')
        .map_or((rounded.as_str(), None), |(a, b)| (a, Some(b)));
    let (sign, int) = int.strip_prefix('-').map_or(("", int), |i| ("−", i));
    let int = if int.len() > 4 {
        crate::common::thousands(int)
    } else {
        int.to_string()
    };
    match frac {
        Some(f) => format!("{sign}{int}.{f}"),
        None => format!("{sign}{int}"),
    }
}

/// The table for docs/staffing.md and the value the rule picks.
fn table(s: &Sweep, summary: &str) -> (String, f64) {
    let rows = rows(summary);
    let get = |point: &str, metric: &str, stat: &str| -> f64 {
        let r = rows
            .iter()
            .find(|r| r.point == point && r.policy == s.policy && r.metric == metric)
            .unwrap_or_else(|| panic!("{}: no {metric} at {point}", s.id()));
        if stat == "p95" {
            r.p95
        } else {
            r.mean
        }
    };
    let months = s.horizon_days() / 30.0;
    let meets = |point: &str| match s.rule {
        Rule::Wait => get(point, "p95_wait_min", "mean") <= WAIT_MIN,
        Rule::FalseAlarms => get(point, "false_alarms", "mean") / months <= ALARMS_PER_30D,
        Rule::Latency => get(point, "latency_p95_min", "mean") <= LATENCY_MIN,
        Rule::Utilization => get(point, "work_utilization", "mean") <= UTILIZATION,
    };
    let pick = s
        .values
        .iter()
        .find(|v| meets(v))
        .unwrap_or_else(|| panic!("{}: no value in the sweep meets the rule", s.id()));
    let mut t = format!("| `{}` |", s.key);
    for (h, _, _) in COLUMNS {
        t += &format!(" {h} |");
    }
    t += "\n|---|";
    t += &"---:|".repeat(COLUMNS.len());
    t += "\n";
    for v in s.values {
        let mark = if v == pick { " ← rule" } else { "" };
        t += &format!("| {v}{mark} |");
        for (_, m, stat) in COLUMNS {
            t += &format!(" {} |", fmt(get(v, m, stat)));
        }
        t += "\n";
    }
    (t, pick.parse().unwrap())
}

const DOC: &str = "docs/staffing.md";

fn block_marks(s: &Sweep) -> (String, String) {
    (
        format!("<!-- sweep: {} -->\n", s.id()),
        "<!-- end sweep -->".to_string(),
    )
}

/// Checks the docs' table and the scenario's number against one sweep's summary.
fn check_sweep(s: &Sweep, summary: &str, doc: &str, problems: &mut Vec<String>) {
    let (t, pick) = table(s, summary);
    let (start, end) = block_marks(s);
    let Some(at) = doc.find(&start) else {
        panic!("{DOC} has no block {start}");
    };
    let body = at + start.len();
    let stop = body + doc[body..].find(&end).expect("end of sweep block");
    if doc[body..stop] != t {
        problems.push(format!("{}: the table in {DOC} is not the sweep's:\n{t}", s.id()));
    }
    if s.in_scenario() != pick {
        problems.push(format!(
            "{}: scenarios/{}.toml has {} but the rule ({:?}) picks {pick}",
            s.id(),
            s.scenario,
            s.in_scenario(),
            s.rule
        ));
    }
}

/// The tables of docs/staffing.md are the committed sweeps, and each scenario has the number
/// its rule picks there (no rerun: `committed_staffing_sweeps_match_the_code` reruns them).
#[test]
fn staffing_follows_the_stated_rule() {
    let doc = fs::read_to_string(root().join(DOC)).unwrap();
    let mut problems = Vec::new();
    for s in SWEEPS {
        let summary =
            fs::read_to_string(s.committed()).unwrap_or_else(|e| panic!("{}: {e}", s.committed().display()));
        check_sweep(s, &summary, &doc, &mut problems);
    }
    assert!(
        problems.is_empty(),
        "{}\n(after an intended change: OVERSIM_BLESS=1 cargo test --release staffing -- --include-ignored)",
        problems.join("\n")
    );
}

/// Every sweep run again is its committed summary: 71 runs, several minutes on two cores,
/// so in CI's own step (`.ci/run`). With `OVERSIM_BLESS=1` it rewrites the summaries and the
/// tables.
#[test]
#[ignore = "slow: reruns 71 sweep points; CI runs it (cargo test --release -- --ignored)"]
fn committed_staffing_sweeps_match_the_code() {
    let bless = std::env::var_os("OVERSIM_BLESS").is_some();
    let tmp = TempDir::new().unwrap();
    let mut doc = fs::read_to_string(root().join(DOC)).unwrap();
    let mut problems = Vec::new();
    for s in SWEEPS {
        let summary = s.run(tmp.path());
        if bless {
            let (t, _) = table(s, &summary);
            let (start, end) = block_marks(s);
            let body = doc.find(&start).expect("a block per sweep") + start.len();
            let stop = body + doc[body..].find(&end).expect("end of sweep block");
            fs::create_dir_all(s.committed().parent().unwrap()).unwrap();
            fs::write(s.committed(), &summary).unwrap();
            doc.replace_range(body..stop, &t);
            continue;
        }
        let committed = fs::read_to_string(s.committed()).unwrap_or_default();
        if committed != summary {
            problems.push(format!(
                "{}: {} differs from what the code produces",
                s.id(),
                s.committed().display()
            ));
        }
        check_sweep(s, &summary, &doc, &mut problems);
    }
    if bless {
        fs::write(root().join(DOC), doc).unwrap();
    }
    assert!(
        problems.is_empty(),
        "{}\n(after an intended change: OVERSIM_BLESS=1 cargo test --release staffing -- --include-ignored)",
        problems.join("\n")
    );
}

#[test]
fn numbers_keep_three_significant_digits_or_whole_units() {
    assert_eq!(fmt(13.78114), "13.8");
    assert_eq!(fmt(0.69575), "0.696");
    assert_eq!(fmt(16597.75), "16,598");
    assert_eq!(fmt(-8577103.0), "−8,577,103");
    assert_eq!(fmt(1234.0), "1234");
    assert_eq!(fmt(0.0), "0");
    assert_eq!(fmt(f64::NAN), "–");
}

/// catastrophic-tail is the default scenario plus a hidden class: its policies and costs are
/// the default's (so staffing follows the same sweeps), except that every policy's checks
/// skip the hidden class and the people doing the work by hand have an error rate for it.
#[test]
fn catastrophic_tail_keeps_the_default_policies() {
    let load = |s: &str| -> toml::Table {
        fs::read_to_string(root().join("scenarios").join(format!("{s}.toml")))
            .unwrap()
            .parse()
            .unwrap()
    };
    let (default, mut tail) = (load("default"), load("catastrophic-tail"));
    let mut skipping = 0;
    for policy in tail["policy"].as_array_mut().unwrap() {
        let policy = policy.as_table_mut().unwrap();
        if let Some(rate) = (policy.get_mut("work"))
            .and_then(|w| w.get_mut("defect_prob"))
            .and_then(|d| d.as_table_mut())
            .filter(|d| d.len() > 1)
        {
            rate.remove("hidden-catastrophe")
                .expect("people's rate on the hidden class");
        }
        for stage in policy["stage"].as_array_mut().unwrap() {
            let stage = stage.as_table_mut().unwrap();
            if stage["name"].as_str() == Some("checks") {
                let classes = stage.remove("classes").expect("the checks skip the hidden class");
                assert!(!classes
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|c| c.as_str() == Some("hidden-catastrophe")));
                skipping += 1;
            }
        }
    }
    assert_eq!(skipping, 3, "every policy's checks skip the hidden class");
    assert_eq!(default["policy"], tail["policy"]);
    assert_eq!(default["costs"], tail["costs"]);
}

/// A scenario whose reviewers and monitor threshold follow rules, and a control policy
/// with a number written in.
const RULED: &str = r#"name = "ruled"
[run]
replications = 20
horizon = "7d"
seed = 3
[workload]
rate = "40/h"
[[workload.class]]
name = "a"
share = 1.0
defect_prob = 0.05
[[policy]]
name = "review"
[[policy.stage]]
kind = "human_review"
name = "review"
reviewers = { rule = "p95_wait", max = "15m" }
service = { dist = "lognormal", mean = "6m", cv = 1.0 }
detect = 0.8
[[policy.stage]]
kind = "monitor"
name = "spc"
watch = ["review"]
method = "cusum"
p0 = "auto"
window = 2000
shift = 2
h = { rule = "false_alarms", max = 2, per = "30d" }
[[policy]]
name = "fixed"
[[policy.stage]]
kind = "human_review"
name = "review"
reviewers = 12
service = { dist = "lognormal", mean = "6m", cv = 1.0 }
detect = 0.8
"#;

fn oversim_in(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("oversim").unwrap();
    c.current_dir(dir);
    c
}

/// staffing.csv's rows: (sweep value, stage, key, chosen, at_chosen, at_one_less, max).
fn staffing_rows(dir: &Path) -> Vec<(String, String, String, String, String, String, f64)> {
    let text = fs::read_to_string(dir.join("staffing.csv")).unwrap();
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let h = r.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    let c = [
        col("stage"),
        col("key"),
        col("chosen"),
        col("at_chosen"),
        col("at_one_less"),
        col("max"),
    ];
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            let s = |i: usize| rec[i].to_string();
            (
                s(0),
                s(c[0]),
                s(c[1]),
                s(c[2]),
                s(c[3]),
                s(c[4]),
                rec[c[5]].parse().unwrap(),
            )
        })
        .collect()
}

/// One summary.csv mean, by point, policy and metric.
fn summary_mean(dir: &Path, policy: &str, metric: &str) -> f64 {
    let rows = rows(&fs::read_to_string(dir.join("summary.csv")).unwrap());
    let r = rows
        .iter()
        .find(|r| r.policy == policy && r.metric == metric)
        .unwrap();
    r.mean
}

#[test]
fn rules_are_solved_at_every_point_met_there_and_broken_one_below() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    fs::write(d.join("ruled.toml"), RULED).unwrap();
    let rates = ["20/h", "40/h", "80/h"];
    oversim_in(d)
        .args(["run", "ruled.toml", "-q", "-o", "sweep", "--sweep"])
        .arg(format!("workload.rate={}", rates.join(",")))
        .assert()
        .success();
    let rows = staffing_rows(&d.join("sweep"));
    assert_eq!(rows.len(), 2 * rates.len(), "{rows:?}");
    let mut reviewers = Vec::new();
    for (rate, stage, key, chosen, at, below, max) in &rows {
        let (at, below): (f64, f64) = (at.parse().unwrap(), below.parse().unwrap());
        // The rule holds at the choice and is broken one step below it.
        assert!(
            at <= *max && below > *max,
            "{rate} {stage}.{key}: {at} ≤ {max} < {below}"
        );
        if key == "reviewers" {
            reviewers.push(chosen.parse::<u32>().unwrap());
        }
        // A run with the choices written in reproduces the judged value exactly.
        let (other_key, other) = rows
            .iter()
            .find(|r| r.0 == *rate && r.2 != *key)
            .map(|r| (r.1.clone() + "." + &r.2, r.3.clone()))
            .unwrap();
        let out = format!("fixed-{}-{key}", rate.replace('/', ""));
        oversim_in(d)
            .args(["run", "ruled.toml", "-q", "-o", &out])
            .arg("--set")
            .arg(format!("workload.rate={rate}"))
            .arg("--set")
            .arg(format!("policy.review.{stage}.{key}={chosen}"))
            .arg("--set")
            .arg(format!("policy.review.{other_key}={other}"))
            .assert()
            .success();
        let fixed = d.join(&out);
        assert_eq!(staffing_rows(&fixed), [], "numbers written in are not rules");
        let again = match key.as_str() {
            "reviewers" => {
                let text = fs::read_to_string(fixed.join("stages.csv")).unwrap();
                let mut r = csv::Reader::from_reader(text.as_bytes());
                let h = r.headers().unwrap().clone();
                let p95 = h.iter().position(|c| c == "p95_wait_min").unwrap();
                let row = r
                    .records()
                    .map(Result::unwrap)
                    .find(|rec| &rec[0] == "review" && &rec[1] == "review");
                row.unwrap()[p95].parse::<f64>().unwrap()
            }
            _ => summary_mean(&fixed, "review", "false_alarms") * 30.0 / 7.0,
        };
        assert!(
            (again - at).abs() <= 1e-12 * at.abs(),
            "{rate} {key}: the run with {chosen} written in gives {again}, the rule judged {at}"
        );
    }
    // More work needs more reviewers.
    assert!(reviewers.windows(2).all(|w| w[0] < w[1]), "{reviewers:?}");
    // The same choices on one thread, and sharded then merged: byte for byte.
    oversim_in(d)
        .args([
            "run",
            "ruled.toml",
            "-q",
            "-o",
            "one",
            "--threads",
            "1",
            "--sweep",
        ])
        .arg(format!("workload.rate={}", rates.join(",")))
        .assert()
        .success();
    let mut shards = Vec::new();
    for k in 0..2 {
        let dir = format!("shard{k}");
        oversim_in(d)
            .args([
                "run",
                "ruled.toml",
                "-q",
                "-o",
                &dir,
                "--shard",
                &format!("{k}/2"),
                "--sweep",
            ])
            .arg(format!("workload.rate={}", rates.join(",")))
            .assert()
            .success();
        shards.push(dir);
    }
    oversim_in(d)
        .arg("merge")
        .args(&shards)
        .args(["-q", "-o", "merged"])
        .assert()
        .success();
    for f in [
        "staffing.csv",
        "summary.csv",
        "replications.csv",
        "stages.csv",
        "decision.csv",
    ] {
        let whole = fs::read(d.join("sweep").join(f)).unwrap();
        assert_eq!(fs::read(d.join("one").join(f)).unwrap(), whole, "one thread: {f}");
        assert_eq!(fs::read(d.join("merged").join(f)).unwrap(), whole, "merged: {f}");
    }
    // `validate` names the rules; the offered load of a rule's stage is the rule's to keep.
    oversim_in(d)
        .args(["validate", "ruled.toml"])
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "policy.review.review.reviewers: the fewest with p95_wait at most 15m",
        ))
        .stdout(predicates::str::contains(
            "policy.review.spc.h: the smallest with false_alarms at most 2 per 30d",
        ));
}

#[test]
fn a_rule_nothing_meets_is_refused_by_name() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    // No number of people makes the work wait less than no time at all at 95%.
    let text = RULED.replace(
        r#"reviewers = { rule = "p95_wait", max = "15m" }"#,
        r#"reviewers = { rule = "utilization", max = 0.000001 }"#,
    );
    fs::write(
        d.join("never.toml"),
        text.replace("replications = 20", "replications = 2"),
    )
    .unwrap();
    oversim_in(d)
        .args(["run", "never.toml", "-q", "-o", "out"])
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "policy[review].stage[review].reviewers: no value up to 100000 meets the staffing rule (utilization at most 0.000001",
        ));
    assert!(!d.join("out").exists(), "nothing is written");
}

/// `scenario::DEFAULT_STAFFING` (what benchmarks and engine-level tests write in) is what
/// the committed run of the default scenario chose.
#[test]
fn the_default_staffing_constant_is_the_committed_choice() {
    let s = Sweep {
        scenario: "default",
        policy: "",
        stage: "",
        key: "",
        values: &[],
        rule: Rule::Wait,
    };
    let chosen = s.chosen_in_run();
    let constant: Vec<(String, String)> = (oversim::scenario::DEFAULT_STAFFING.iter())
        .map(|(p, v)| (p.to_string(), v.to_string()))
        .collect();
    assert_eq!(constant, chosen);
}

#[test]
fn validate_says_what_the_stated_rule_would_pick_for_a_written_number() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    fs::write(d.join("ruled.toml"), RULED).unwrap();
    let out = oversim_in(d)
        .args(["validate", "--staffing", "ruled.toml"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let said = String::from_utf8(out.stdout).unwrap();
    // The same rule written in, solved by a run, with the file's own rules beside it.
    oversim_in(d)
        .args(["run", "ruled.toml", "-q", "-o", "ruled", "--set"])
        .arg(r#"policy.fixed.review.reviewers={ rule = "p95_wait", max = "15m" }"#)
        .assert()
        .success();
    let rows = staffing_rows(&d.join("ruled"));
    assert_eq!(rows.len(), 3, "{rows:?}");
    let text = fs::read_to_string(d.join("ruled/staffing.csv")).unwrap();
    for (line, (_, stage, key, chosen, at, below, _)) in text.lines().skip(1).zip(&rows) {
        let policy = line.split(',').next().unwrap();
        let (at, below): (f64, f64) = (at.parse().unwrap(), below.parse().unwrap());
        let was = match policy {
            "fixed" => "12 written",
            _ => "the file's rule",
        };
        let expect = format!(
            "policy.{policy}.{stage}.{key}: {was}; the {} picks {chosen} ({at:.3} there, {below:.3} one below)",
            match key.as_str() {
                "h" => "smallest h with false_alarms at most 2 per 30d",
                _ => "fewest with p95_wait at most 15m",
            }
        );
        assert!(said.contains(&expect), "expected `{expect}` in:\n{said}");
    }
    // Without --staffing, validate runs nothing and says nothing of picks.
    let out = oversim_in(d).args(["validate", "ruled.toml"]).output().unwrap();
    assert!(!String::from_utf8(out.stdout).unwrap().contains("picks"));
}
